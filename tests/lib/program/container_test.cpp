// The compressed Program file: round trip, and one crafted file per error.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "lib/program/container.h"
#include "lib/program/program.h"
#include "tests/testing/program_builder.h"
#include "tests/testing/test_paths.h"

namespace lpu::program {
namespace {

std::vector<std::uint8_t> serialized() { return serialize(testing::ProgramBuilder().build()); }

TEST(Container, RoundTripsAndIsSmaller) {
  const std::vector<std::uint8_t> raw = serialized();
  const std::vector<std::uint8_t> z = compress_program(raw);
  EXPECT_TRUE(is_compressed_program(z));
  EXPECT_FALSE(is_compressed_program(raw));
  EXPECT_EQ(compress_program(raw), z);  // deterministic
  auto back = uncompress_program(z, "p.lpuprog");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, raw);
}

TEST(Container, WriteProgramCompressesAndReadProgramReadsBoth) {
  const Program p = testing::ProgramBuilder().build();
  const std::string path = (lpu::testing::temp_dir() / "z.lpuprog").string();
  ASSERT_TRUE(write_program(p, path).ok());
  std::ifstream f(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
  EXPECT_TRUE(is_compressed_program(bytes));
  auto back = read_program(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(serialize(*back), serialize(p));
  // A raw (uncompressed) file reads too.
  const std::string raw_path = (lpu::testing::temp_dir() / "raw.lpuprog").string();
  const std::vector<std::uint8_t> raw = serialize(p);
  std::ofstream(raw_path, std::ios::binary).write(reinterpret_cast<const char*>(raw.data()),
                                                 static_cast<std::streamsize>(raw.size()));
  EXPECT_TRUE(read_program(raw_path).ok());
}

void expect_error(std::vector<std::uint8_t> bytes, const std::string& part) {
  auto r = uncompress_program(bytes, "z.lpuprog");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
}

TEST(Container, EachCorruptionIsNamed) {
  const std::vector<std::uint8_t> z = compress_program(serialized());
  expect_error({z.begin(), z.begin() + 10}, "header");
  std::vector<std::uint8_t> size = z;
  size[8] ^= 1;
  expect_error(size, "z.lpuprog @0x8: size");
  std::vector<std::uint8_t> frame = z;
  frame[16] ^= 0xff;  // the frame's magic
  expect_error(frame, "@0x10: frame");
  std::vector<std::uint8_t> cut(z.begin(), z.end() - 3);
  expect_error(cut, "frame");
  std::vector<std::uint8_t> trailing = z;
  trailing.push_back(0);
  expect_error(trailing, "1 bytes after the frame");
  std::vector<std::uint8_t> huge = z;
  for (int i = 8; i < 16; ++i) huge[static_cast<std::size_t>(i)] = 0xff;
  expect_error(huge, "size");
}

}  // namespace
}  // namespace lpu::program
