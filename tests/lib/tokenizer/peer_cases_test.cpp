// Vocabularies against llama.cpp: the ids and detokenized text that
// tests/peer/dump_tokens.py recorded in tests/data/tokenizer/*_cases.json
// (several hundred inputs each, invalid UTF-8 included, plus inputs around
// the text of every control, user-defined and unknown token under each
// add_special/parse_special combination), and llama.cpp's BOS/EOS/EOT ids
// and end-of-generation set. Regenerate the files with the commands in
// dump_tokens.py's docstring.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "include/lpu/tokenizer.h"
#include "tests/lib/tokenizer/hex.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

struct PeerCases {
  const char* json;  // under tests/data/tokenizer
  std::function<std::filesystem::path()> model;
};

class PeerCasesTest : public ::testing::TestWithParam<PeerCases> {};

TEST_P(PeerCasesTest, EncodeAndDecodeMatchLlamaCpp) {
  const auto model = GetParam().model();
  LPU_REQUIRE_FILE(model, "vocabulary " + model.filename().string());
  const auto path = testing::source_dir() / "tests/data/tokenizer" / GetParam().json;
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  std::ifstream in(path);
  const nlohmann::json doc = nlohmann::json::parse(in);
  auto tok = Tokenizer::from_gguf(model.string());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();

  EXPECT_EQ(tok->bos(), doc["bos"].get<TokenId>());
  EXPECT_EQ(tok->eos(), doc["eos"].get<TokenId>());
  EXPECT_EQ(tok->eot(), doc["eot"].get<TokenId>());
  EXPECT_EQ(tok->default_add_bos(), doc["add_bos"].get<bool>());
  std::vector<TokenId> eog;
  for (TokenId id = 0; id < static_cast<TokenId>(tok->vocab_size()); ++id) {
    if (tok->is_end_of_generation(id)) eog.push_back(id);
  }
  EXPECT_EQ(eog, doc["eog_ids"].get<std::vector<TokenId>>());

  const auto& cases = doc["cases"];
  ASSERT_GE(cases.size(), 300u);
  int failures = 0;
  int decode_failures = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const bool add_special = c["add_special"].get<bool>();
    EncodeOptions opts;
    opts.add_bos = add_special && tok->default_add_bos();
    opts.add_eos = add_special && tok->default_add_eos();
    opts.parse_special = c["parse_special"].get<bool>();
    auto ids = tok->encode(testing::from_hex(c["input_hex"].get<std::string>()), opts);
    ASSERT_TRUE(ids.ok()) << "case " << i << ": " << ids.status().to_string();
    const auto expected = c["ids"].get<std::vector<TokenId>>();
    const std::string flags = std::string(add_special ? " add_special" : "") +
                              (opts.parse_special ? " parse_special" : "");
    if (*ids != expected && ++failures <= 10) {
      ADD_FAILURE() << "case " << i << flags << " input " << c["input_hex"] << ": got "
                    << ::testing::PrintToString(*ids) << ", expected "
                    << ::testing::PrintToString(expected);
    }
    const std::string decoded = testing::to_hex(tok->decode(expected, opts.parse_special));
    if (decoded != c["decoded_hex"].get<std::string>() && ++decode_failures <= 10) {
      ADD_FAILURE() << "case " << i << flags << " decoding " << ::testing::PrintToString(expected)
                    << ": got " << decoded << ", expected " << c["decoded_hex"];
    }
  }
  EXPECT_EQ(failures, 0) << "of " << cases.size() << " encodings";
  EXPECT_EQ(decode_failures, 0) << "of " << cases.size() << " decodings";
}

std::filesystem::path vector_vocab(const char* name) {
  return testing::shared_dir() / "tokenizer-vectors" /
         (std::string("ggml-vocab-") + name + ".gguf");
}

INSTANTIATE_TEST_SUITE_P(
    LlamaCpp, PeerCasesTest,
    ::testing::Values(
        PeerCases{"smollm2_cases.json", [] { return testing::smollm2_q4_1_path(); }},
        PeerCases{"stories260K_cases.json", [] { return testing::stories260k_path(); }},
        PeerCases{"gpt-2_cases.json", [] { return vector_vocab("gpt-2"); }},
        PeerCases{"deepseek-llm_cases.json", [] { return vector_vocab("deepseek-llm"); }},
        PeerCases{"deepseek-coder_cases.json", [] { return vector_vocab("deepseek-coder"); }},
        PeerCases{"llama-spm_cases.json", [] { return vector_vocab("llama-spm"); }},
        PeerCases{"phi-3_cases.json", [] { return vector_vocab("phi-3"); }}),
    [](const ::testing::TestParamInfo<PeerCases>& p) {
      std::string name = p.param.json;
      name = name.substr(0, name.find('_'));
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace lpu
