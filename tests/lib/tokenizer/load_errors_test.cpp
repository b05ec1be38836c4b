// Malformed vocabularies: each fails to load with a message naming the file
// and the key (one crafted GGUF per failure).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/lib/tokenizer/vocab_gguf.h"

namespace lpu {
namespace {

using testing::VocabGguf;

const std::vector<std::string> kSpmTokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b"};

VocabGguf spm_vocab() {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", kSpmTokens);
  return g;
}

VocabGguf bpe_vocab() {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens", {"a", "b", "ab"})
      .strings("tokenizer.ggml.merges", {"a b"});
  return g;
}

// The load fails and the message names the file and every one of `parts`.
void expect_error(const VocabGguf& g, StatusCode code, std::vector<std::string> parts) {
  auto tok = g.load();
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), code) << tok.status().to_string();
  parts.push_back("crafted.gguf");
  for (const std::string& p : parts) {
    EXPECT_NE(tok.status().message().find(p), std::string::npos)
        << "'" << p << "' not in: " << tok.status().message();
  }
}

TEST(LoadErrors, WellFormedVocabulariesLoad) {
  auto spm = spm_vocab().load();
  ASSERT_TRUE(spm.ok()) << spm.status().to_string();
  EXPECT_EQ(spm->vocab_size(), 6u);
  auto bpe = bpe_vocab().load();
  ASSERT_TRUE(bpe.ok()) << bpe.status().to_string();
  EXPECT_EQ(bpe->pre_tokenizer(), "gpt-2");
}

TEST(LoadErrors, MissingModel) {
  VocabGguf g;
  g.strings("tokenizer.ggml.tokens", kSpmTokens);
  expect_error(g, StatusCode::kNotFound, {"tokenizer.ggml.model"});
}

TEST(LoadErrors, UnknownModel) {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "bert").strings("tokenizer.ggml.tokens", kSpmTokens);
  expect_error(g, StatusCode::kUnimplemented, {"tokenizer.ggml.model", "bert"});
}

TEST(LoadErrors, UnknownPreTokenizer) {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "no-such-pre")
      .strings("tokenizer.ggml.tokens", {"a"})
      .strings("tokenizer.ggml.merges", {});
  expect_error(g, StatusCode::kUnimplemented, {"tokenizer.ggml.pre", "no-such-pre"});
}

TEST(LoadErrors, MissingOrMistypedTokens) {
  VocabGguf missing;
  missing.str("tokenizer.ggml.model", "llama");
  expect_error(missing, StatusCode::kNotFound, {"tokenizer.ggml.tokens"});
  VocabGguf mistyped;
  mistyped.str("tokenizer.ggml.model", "llama").str("tokenizer.ggml.tokens", "a b c");
  expect_error(mistyped, StatusCode::kInvalidArgument,
               {"tokenizer.ggml.tokens", "array of string"});
  VocabGguf empty;
  empty.str("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", {});
  expect_error(empty, StatusCode::kInvalidArgument, {"tokenizer.ggml.tokens", "empty"});
}

TEST(LoadErrors, ArrayLengthsMustMatchTheTokens) {
  expect_error(spm_vocab().floats("tokenizer.ggml.scores", {0, 0, 0}), StatusCode::kInvalidArgument,
               {"tokenizer.ggml.scores", "3", "6"});
  expect_error(spm_vocab().ints("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 1}),
               StatusCode::kInvalidArgument, {"tokenizer.ggml.token_type", "7", "6"});
  expect_error(spm_vocab().str("tokenizer.ggml.scores", "x"), StatusCode::kInvalidArgument,
               {"tokenizer.ggml.scores"});
}

TEST(LoadErrors, BadMerges) {
  VocabGguf missing;
  missing.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens", {"a"});
  expect_error(missing, StatusCode::kNotFound, {"tokenizer.ggml.merges"});
  VocabGguf no_space;
  no_space.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens", {"a", "b"})
      .strings("tokenizer.ggml.merges", {"a b", "ab"});
  expect_error(no_space, StatusCode::kInvalidArgument,
               {"tokenizer.ggml.merges", "entry 1", "'ab'"});
  VocabGguf one_sided;
  one_sided.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens", {"a"})
      .strings("tokenizer.ggml.merges", {"a "});
  expect_error(one_sided, StatusCode::kInvalidArgument, {"tokenizer.ggml.merges", "entry 0"});
}

TEST(LoadErrors, DuplicateTokenText) {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "x", "x"});
  expect_error(g, StatusCode::kInvalidArgument, {"tokenizer.ggml.tokens", "'x'", "2", "3"});
}

TEST(LoadErrors, SpecialIdOutsideTheVocabulary) {
  expect_error(spm_vocab().u32("tokenizer.ggml.bos_token_id", 6), StatusCode::kOutOfRange,
               {"tokenizer.ggml.bos_token_id", "6"});
  expect_error(spm_vocab().u32("tokenizer.ggml.eot_token_id", 100000), StatusCode::kOutOfRange,
               {"tokenizer.ggml.eot_token_id", "100000"});
}

TEST(LoadErrors, AllOnesIdMeansNone) {
  auto tok = spm_vocab()
                 .u32("tokenizer.ggml.padding_token_id", 0xFFFFFFFF)
                 .u32("tokenizer.ggml.seperator_token_id", 0xFFFFFFFF)
                 .u32("tokenizer.ggml.bos_token_id", 0xFFFFFFFF)
                 .load();
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ(tok->pad(), -1);
  EXPECT_EQ(tok->bos(), 1);  // absent: the SPM default
}

TEST(LoadErrors, BosRequiredButMissing) {
  // SPM adds BOS by default, and its default BOS id (1) does not exist here.
  VocabGguf g;
  g.str("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", {"a"});
  expect_error(g, StatusCode::kInvalidArgument, {"tokenizer.ggml.add_bos_token", "bos_token_id"});
  auto ok = VocabGguf(g).boolean("tokenizer.ggml.add_bos_token", false).load();
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->bos(), -1);
  auto encoded = ok->encode("a", {.add_bos = true});
  EXPECT_FALSE(encoded.ok());
}

TEST(LoadErrors, MissingFile) {
  auto tok = Tokenizer::from_gguf("/nonexistent/vocab.gguf");
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find("/nonexistent/vocab.gguf"), std::string::npos);
}

}  // namespace
}  // namespace lpu
