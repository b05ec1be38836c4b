// llama.cpp's tokenizer test suite (shared/tokenizer-vectors): every case of
// every vocabulary must give exactly the expected ids.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "include/lpu/tokenizer.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// NAME.gguf.inp: cases each followed by the separator.
std::vector<std::string> read_inputs(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  std::size_t begin = 0;
  for (std::size_t at; (at = text.find(sep, begin)) != std::string::npos; begin = at + sep.size()) {
    cases.push_back(text.substr(begin, at - begin));
  }
  return cases;
}

// NAME.gguf.out: one line of space-separated ids per case.
std::vector<std::vector<TokenId>> read_outputs(const std::filesystem::path& path) {
  std::istringstream in(read_file(path));
  std::vector<std::vector<TokenId>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ids(line);
    out.emplace_back();
    for (TokenId id; ids >> id;) out.back().push_back(id);
  }
  return out;
}

class VocabVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabVectors, EveryCaseMatchesLlamaCpp) {
  const auto dir = testing::shared_dir() / "tokenizer-vectors";
  const auto gguf = dir / (std::string("ggml-vocab-") + GetParam() + ".gguf");
  LPU_REQUIRE_FILE(gguf, "tokenizer vector vocabulary");
  auto tok = Tokenizer::from_gguf(gguf.string());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const auto inputs = read_inputs(gguf.string() + ".inp");
  const auto outputs = read_outputs(gguf.string() + ".out");
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_EQ(outputs.size(), inputs.size());
  int failures = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto ids = tok->encode(inputs[i], {.add_bos = false, .parse_special = false});
    ASSERT_TRUE(ids.ok()) << ids.status().to_string();
    if (*ids != outputs[i]) {
      ++failures;
      ADD_FAILURE() << GetParam() << " case " << i << " '" << inputs[i] << "': got "
                    << ::testing::PrintToString(*ids) << ", expected "
                    << ::testing::PrintToString(outputs[i]);
    }
  }
  EXPECT_EQ(failures, 0);
}

std::string vocab_test_name(const ::testing::TestParamInfo<const char*>& param) {
  std::string name = param.param;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(LlamaCppSuite, VocabVectors,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "deepseek-coder",
                                           "deepseek-llm"),
                         vocab_test_name);

// Ids llama.cpp reports for these vocabularies: phi-3 has several texts that
// mark an end-of-turn token and llama.cpp picks "<|end|>".
TEST(VocabVectorsFacts, SpecialIdsMatchLlamaCpp) {
  const auto dir = testing::shared_dir() / "tokenizer-vectors";
  const auto phi3 = dir / "ggml-vocab-phi-3.gguf";
  LPU_REQUIRE_FILE(phi3, "tokenizer vector vocabulary");
  auto tok = Tokenizer::from_gguf(phi3.string());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ(tok->eot(), 32007);
  EXPECT_EQ(tok->eos(), 32000);
  EXPECT_EQ(tok->pad(), 32000);
  EXPECT_TRUE(tok->is_end_of_generation(32007));
  auto coder = Tokenizer::from_gguf((dir / "ggml-vocab-deepseek-coder.gguf").string());
  ASSERT_TRUE(coder.ok()) << coder.status().to_string();
  EXPECT_EQ(coder->eot(), 32014);
  EXPECT_EQ(coder->bos(), 32013);
  EXPECT_TRUE(coder->default_add_bos());
}

// Decoding the encoded cases gives the text back (SPM drops the space it
// added; these vocabularies do not clean up spaces or were chosen with
// inputs that contain none of the clean-up patterns).
TEST(VocabVectorsRoundTrip, SpmAndDeepseekDecodeToTheInput) {
  const auto dir = testing::shared_dir() / "tokenizer-vectors";
  for (const char* name : {"llama-spm", "deepseek-coder", "deepseek-llm"}) {
    const auto gguf = dir / (std::string("ggml-vocab-") + name + ".gguf");
    LPU_REQUIRE_FILE(gguf, "tokenizer vector vocabulary");
    auto tok = Tokenizer::from_gguf(gguf.string());
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    for (const std::string& text : read_inputs(gguf.string() + ".inp")) {
      auto ids = tok->encode(text, {});
      ASSERT_TRUE(ids.ok());
      EXPECT_EQ(tok->decode(*ids), text) << name;
    }
  }
}

}  // namespace
}  // namespace lpu
