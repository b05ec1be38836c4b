// SmolLM2's vocabulary: facts llama.cpp reports for it, special-token
// handling and encoding speed (its ids against llama.cpp are checked in
// peer_cases_test.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "include/lpu/tokenizer.h"
#include "tests/lib/tokenizer/hex.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

class SmolLM2 : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto model = testing::smollm2_q4_1_path();
    LPU_REQUIRE_FILE(model, "SmolLM2-135M-Instruct Q4_1");
    auto tok = Tokenizer::from_gguf(model.string());
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    tok_ = std::make_unique<Tokenizer>(std::move(*tok));
  }

  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(SmolLM2, VocabularyFacts) {
  EXPECT_EQ(tok_->model_name(), "gpt2");
  EXPECT_EQ(tok_->pre_tokenizer(), "smollm");
  EXPECT_EQ(tok_->vocab_size(), 49152u);
  EXPECT_EQ(tok_->bos(), 1);
  EXPECT_EQ(tok_->eos(), 2);
  EXPECT_EQ(tok_->eot(), 0);  // "<|endoftext|>", found by its text
  EXPECT_FALSE(tok_->default_add_bos());
  // llama.cpp's end-of-generation set: <|endoftext|>, <|im_end|> and
  // <reponame> (a fill-in-the-middle "repo" token found by its text).
  for (TokenId id = 0; id < 20; ++id) {
    EXPECT_EQ(tok_->is_end_of_generation(id), id == 0 || id == 2 || id == 4) << id;
  }
  EXPECT_EQ(tok_->token_text(1), "<|im_start|>");
  EXPECT_EQ(tok_->find_token("<|im_end|>"), 2);
  EXPECT_EQ(tok_->find_token("no such token"), -1);
}

// The recorded strings (about 1,700) with a 49k-token BPE vocabulary: well
// under a second.
TEST_F(SmolLM2, EncodingIsFast) {
  const auto path = testing::source_dir() / "tests/data/tokenizer/smollm2_cases.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::vector<std::string> inputs;
  const nlohmann::json doc = nlohmann::json::parse(in);
  for (const auto& c : doc["cases"]) {
    inputs.push_back(testing::from_hex(c["input_hex"].get<std::string>()));
  }
  ASSERT_GE(inputs.size(), 300u);
  const auto start = std::chrono::steady_clock::now();
  std::size_t n_tokens = 0;
  for (const std::string& s : inputs) {
    auto ids = tok_->encode(s, {});
    ASSERT_TRUE(ids.ok());
    n_tokens += ids->size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("encode_seconds", std::to_string(seconds));
  std::printf("encoded %zu strings (%zu tokens) in %.4f s\n", inputs.size(), n_tokens, seconds);
  EXPECT_LT(seconds, 0.5);
}

TEST_F(SmolLM2, ParseSpecialControlsControlTokens) {
  const std::string text = "<|im_start|>user";
  auto plain = tok_->encode(text, {});
  auto special = tok_->encode(text, {.parse_special = true});
  ASSERT_TRUE(plain.ok() && special.ok());
  EXPECT_EQ(*special, (std::vector<TokenId>{1, tok_->find_token("user")}));
  EXPECT_GT(plain->size(), 2u);
  EXPECT_EQ(tok_->decode(*plain), text);
  // Control tokens render only on request.
  EXPECT_EQ(tok_->decode(*special), "user");
  EXPECT_EQ(tok_->decode(*special, /*render_special=*/true), text);
  EXPECT_EQ(tok_->token_to_piece(2), "");
  EXPECT_EQ(tok_->token_to_piece(2, true), "<|im_end|>");
}

TEST_F(SmolLM2, RoundTrips) {
  for (const std::string text :
       {"Hello world", "  spaced  out  ", "def f(x):\n\treturn x ** 2\n",
        "naïve café 日本語 🦙", "12345 + 678 = 13023", "don't stop, y'all!"}) {
    auto ids = tok_->encode(text, {});
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(tok_->decode(*ids), text);
  }
}

}  // namespace
}  // namespace lpu
