// Files written by the `gguf` PyPI package and llama.cpp's quantiser
// (tests/peer/make_gguf_fixtures.py) read by this project's reader: every
// metadata value and every dequantised tensor value must equal the
// package's bit for bit, and this project's quantiser must reproduce the
// package's encoded bytes.
#include <gtest/gtest.h>

#include <fstream>

#include "lib/gguf/file.h"
#include "lib/gguf/quantize.h"
#include "lib/gguf/writer.h"
#include "tests/lib/gguf/gguf_json.h"
#include "tests/testing/test_paths.h"

namespace lpu::gguf {
namespace {

const nlohmann::json& expected() {
  static const nlohmann::json doc = [] {
    std::ifstream in(lpu::testing::source_dir() / "tests/data/gguf/expected.json");
    return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  }();
  return doc;
}

std::string fixture(const std::string& name) {
  return (lpu::testing::source_dir() / "tests/data/gguf" / name).string();
}

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

// Compares one described file with the expected description, naming the
// first difference.
void expect_same_description(const nlohmann::json& got, const nlohmann::json& want,
                             const std::string& file) {
  EXPECT_EQ(got["version"], want["version"]) << file;
  EXPECT_EQ(got["alignment"], want["alignment"]) << file;
  ASSERT_EQ(got["metadata"].size(), want["metadata"].size()) << file;
  for (std::size_t i = 0; i < want["metadata"].size(); ++i) {
    EXPECT_EQ(got["metadata"][i], want["metadata"][i]) << file << " metadata #" << i;
  }
  ASSERT_EQ(got["tensors"].size(), want["tensors"].size()) << file;
  for (std::size_t i = 0; i < want["tensors"].size(); ++i) {
    const auto& g = got["tensors"][i];
    const auto& w = want["tensors"][i];
    const std::string where = file + " tensor '" + w["name"].get<std::string>() + "'";
    EXPECT_EQ(g["name"], w["name"]) << where;
    EXPECT_EQ(g["type"], w["type"]) << where;
    EXPECT_EQ(g["type_id"], w["type_id"]) << where;
    EXPECT_EQ(g["dims"], w["dims"]) << where;
    const auto gv = g["values_f32_bits"].get<std::vector<std::uint32_t>>();
    const auto wv = w["values_f32_bits"].get<std::vector<std::uint32_t>>();
    ASSERT_EQ(gv.size(), wv.size()) << where;
    for (std::size_t k = 0; k < wv.size(); ++k) {
      ASSERT_EQ(gv[k], wv[k]) << where << " value #" << k << std::hex << ": got bits 0x" << gv[k]
                              << ", the gguf package gives 0x" << wv[k];
    }
  }
}

class PeerFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(PeerFixture, ReaderMatchesTheGgufPackageBitForBit) {
  ASSERT_FALSE(expected().is_discarded()) << "tests/data/gguf/expected.json does not parse";
  const auto& want = expected()["files"][GetParam()];
  ASSERT_TRUE(want.is_object()) << GetParam() << " missing from expected.json";
  auto file = File::open(fixture(GetParam()));
  ASSERT_TRUE(file.ok()) << file.status().to_string();
  auto got = testing::describe_file(*file);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  expect_same_description(*got, want, GetParam());
}

// Re-writing the fixture with this project's writer keeps every value.
TEST_P(PeerFixture, WriterRoundTripKeepsEverything) {
  auto file = File::open(fixture(GetParam()));
  ASSERT_TRUE(file.ok()) << file.status().to_string();
  Writer w;
  for (const KeyValue& kv : file->metadata()) w.set(kv.key, kv.value);
  for (const TensorInfo& t : file->tensors()) {
    ASSERT_TRUE(w.add_tensor(t.name, t.dims, t.type, {t.data, t.data + t.n_bytes}).ok());
  }
  const std::string out = (lpu::testing::temp_dir() / ("rt-" + GetParam())).string();
  ASSERT_TRUE(w.write(out).ok());
  auto again = File::open(out);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  auto got = testing::describe_file(*again);
  ASSERT_TRUE(got.ok());
  expect_same_description(*got, expected()["files"][GetParam()], "rewritten " + GetParam());
  // Same layout rules as the package's writer: identical bytes.
  std::ifstream a(fixture(GetParam()), std::ios::binary), b(out, std::ios::binary);
  const std::vector<char> ab((std::istreambuf_iterator<char>(a)), {}),
      bb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_TRUE(ab == bb) << GetParam() << ": " << ab.size() << " bytes from the package, "
                        << bb.size() << " bytes from Writer";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PeerFixture,
                         ::testing::Values("types.gguf", "metadata.gguf", "kquants.gguf"),
                         [](const auto& p) { return p.param.substr(0, p.param.find('.')); });

// The package's F16, BF16 and Q8_0 encodings of the same fp32 source.
TEST(PeerFixtureQuantize, QuantizerReproducesThePackageBytes) {
  ASSERT_FALSE(expected().is_discarded());
  int checked = 0;
  for (const auto& [name, desc] : expected()["files"].items()) {
    for (const auto& t : desc["tensors"]) {
      if (!t.contains("data_hex")) continue;
      const auto type = static_cast<TensorType>(t["type_id"].get<std::uint32_t>());
      if (!can_quantize(type)) continue;
      const auto bits = t["source_f32_bits"].get<std::vector<std::uint32_t>>();
      std::vector<float> src(bits.size());
      std::memcpy(src.data(), bits.data(), bits.size() * 4);
      const auto want = from_hex(t["data_hex"].get<std::string>());
      std::vector<std::uint8_t> got(want.size());
      quantize_row(type, src.data(), got.data(), src.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(got[i], want[i])
            << name << " tensor '" << t["name"].get<std::string>() << "' byte " << i;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 6);  // f32 x2, f16, bf16, q8_0 x2 and pad_c
}

}  // namespace
}  // namespace lpu::gguf
