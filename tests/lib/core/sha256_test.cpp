#include "lib/core/sha256.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

std::string sha_of(const std::string& s) {
  Sha256 h;
  h.update(s);
  return h.hex_digest();
}

// FIPS 180-2 / NIST example vectors.
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha_of(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, SplitUpdatesEqualOneUpdate) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 7 + 3);
  const std::string whole = sha_of(data);
  for (std::size_t cut : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 127u, 128u, 999u}) {
    Sha256 h;
    h.update(std::string_view(data).substr(0, cut));
    h.update(std::string_view(data).substr(cut));
    EXPECT_EQ(h.hex_digest(), whole) << "cut at " << cut;
  }
}

TEST(Sha256, FileHashEqualsBufferHash) {
  const auto path = (testing::temp_dir() / "sha.bin").string();
  std::string data(3 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 2654435761u >> 13);
  std::ofstream(path, std::ios::binary)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
  auto got = sha256_file(path);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, sha_of(data));
  auto missing = sha256_file(path + ".absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("sha.bin.absent"), std::string::npos);
}

}  // namespace
}  // namespace lpu
