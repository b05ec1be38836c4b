// stories260K's SentencePiece vocabulary (512 tokens, byte fallback). The
// expected ids and texts are llama.cpp's (llama_tokenize / llama_detokenize
// through llama-cpp-python 0.3.35, vocab_only).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "include/lpu/tokenizer.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

using Ids = std::vector<TokenId>;

class Stories : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = testing::stories260k_path();
    LPU_REQUIRE_FILE(path, "stories260K.gguf");
    auto tok = Tokenizer::from_gguf(path.string());
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    tok_ = std::make_unique<Tokenizer>(std::move(*tok));
  }

  Ids encode(const std::string& text, EncodeOptions opts = {}) {
    auto ids = tok_->encode(text, opts);
    EXPECT_TRUE(ids.ok()) << ids.status().to_string();
    return ids.ok() ? *ids : Ids{};
  }

  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(Stories, VocabularyFacts) {
  EXPECT_EQ(tok_->model_name(), "llama");
  EXPECT_EQ(tok_->pre_tokenizer(), "default");
  EXPECT_EQ(tok_->vocab_size(), 512u);
  EXPECT_EQ(tok_->bos(), 1);
  EXPECT_EQ(tok_->eos(), 2);
  EXPECT_EQ(tok_->unk(), 0);
  // padding_token_id holds 0xFFFFFFFF: no padding token.
  EXPECT_EQ(tok_->pad(), -1);
  EXPECT_TRUE(tok_->default_add_bos());
  EXPECT_FALSE(tok_->default_add_eos());
  for (TokenId id = 0; id < 512; ++id) EXPECT_EQ(tok_->is_end_of_generation(id), id == 2) << id;
}

TEST_F(Stories, EncodesAsLlamaCpp) {
  const std::string story = "Once upon a time, there was a little girl named Lily.";
  const Ids story_ids = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426};
  EXPECT_EQ(encode(story), story_ids);
  Ids with_bos = story_ids;
  with_bos.insert(with_bos.begin(), 1);
  EXPECT_EQ(encode(story, {.add_bos = true}), with_bos);
  EXPECT_EQ(encode("Hello world"), (Ids{346, 306, 414, 263, 304, 341}));
  EXPECT_EQ(encode(""), Ids{});
  EXPECT_EQ(encode("", {.add_bos = true}), Ids{1});
  EXPECT_EQ(encode(" "), (Ids{410, 410}));
  EXPECT_EQ(encode("a\nb"), (Ids{261, 13, 430}));
  EXPECT_EQ(encode("  two  spaces"), (Ids{410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419}));
  // No token for these characters: UTF-8 bytes through <0xNN> tokens.
  EXPECT_EQ(encode("日本"), (Ids{410, 233, 154, 168, 233, 159, 175}));
}

TEST_F(Stories, SpecialTextIsSplitOnlyWhenAsked) {
  EXPECT_EQ(encode("<s>x</s>"), (Ids{410, 504, 419, 505, 444, 504, 492, 419, 505}));
  // After a special token, SPM prefixes the raw text with a space again.
  EXPECT_EQ(encode("<s>x</s>", {.add_bos = true, .parse_special = true}), (Ids{1, 1, 410, 444, 2}));
  EXPECT_EQ(encode("x", {.add_bos = true, .add_eos = true}), (Ids{1, 410, 444, 2}));
}

TEST_F(Stories, DecodesAsLlamaCpp) {
  const Ids ids = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426};
  // With BOS first, the prefix space stays (llama_detokenize, remove_special = false).
  EXPECT_EQ(tok_->decode(ids), " Once upon a time, there was a little girl named Lily.");
  EXPECT_EQ(tok_->decode(std::span(ids).subspan(1)),
            "Once upon a time, there was a little girl named Lily.");
  EXPECT_EQ(tok_->decode(Ids{410, 410}), " ");
  EXPECT_EQ(tok_->decode(Ids{1, 1, 410, 444, 2}), " x");
  EXPECT_EQ(tok_->decode(Ids{1, 1, 410, 444, 2}, true), "<s><s> x</s>");
  EXPECT_EQ(tok_->token_to_piece(410), " ");
  EXPECT_EQ(tok_->token_to_piece(233), "\xE6");
  EXPECT_EQ(tok_->token_to_piece(1), "");
  EXPECT_EQ(tok_->token_to_piece(1, true), "<s>");
  EXPECT_EQ(tok_->token_to_piece(-1), "");
  EXPECT_EQ(tok_->token_to_piece(512), "");
}

TEST_F(Stories, RoundTrips) {
  for (const std::string text :
       {"Once upon a time", "  leading and trailing  ", "tabs\tand\nnewlines\n\n",
        "Führer café 日本 🦙", "numbers 1234567890 and symbols !@#$%^&*()", "x"}) {
    EXPECT_EQ(tok_->decode(encode(text)), text);
  }
}

}  // namespace
}  // namespace lpu
