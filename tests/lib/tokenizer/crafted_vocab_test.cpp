// Encoding rules on small crafted vocabularies: merge order and its
// tie-breaking, byte fallback, special token handling and attributes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/lib/tokenizer/vocab_gguf.h"

namespace lpu {
namespace {

using testing::VocabGguf;
using Ids = std::vector<TokenId>;

Tokenizer load(const VocabGguf& g) {
  auto tok = g.load();
  EXPECT_TRUE(tok.ok()) << tok.status().to_string();
  return std::move(tok).value();
}

Ids encode(const Tokenizer& tok, const std::string& text, EncodeOptions opts = {}) {
  auto ids = tok.encode(text, opts);
  EXPECT_TRUE(ids.ok()) << ids.status().to_string();
  return ids.ok() ? *ids : Ids{};
}

// SPM: "<unk>" "<s>" "</s>" "a" "b" "ab" "ba", no leading space.
VocabGguf spm(float score_ab, float score_ba) {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a", "b", "ab", "ba"})
      .floats("tokenizer.ggml.scores", {0, 0, 0, -5, -5, score_ab, score_ba})
      .ints("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1, 1})
      .boolean("tokenizer.ggml.add_space_prefix", false);
  return g;
}

TEST(CraftedSpm, HigherScoreMergesFirst) {
  EXPECT_EQ(encode(load(spm(-2, -1)), "aba"), (Ids{3, 6}));  // a + ba
  EXPECT_EQ(encode(load(spm(-1, -2)), "aba"), (Ids{5, 3}));  // ab + a
}

TEST(CraftedSpm, LeftmostWinsATie) {
  EXPECT_EQ(encode(load(spm(-1, -1)), "aba"), (Ids{5, 3}));
  EXPECT_EQ(encode(load(spm(-1, -1)), "bab"), (Ids{6, 4}));
}

TEST(CraftedSpm, MissingByteTokenIsAnError) {
  auto ids = load(spm(-1, -1)).encode("abc", {});
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("<0x63>"), std::string::npos) << ids.status().message();
}

// BPE over "a" "b" "c" "ab" "bc" "aa" with the given merges.
VocabGguf bpe(const std::vector<std::string>& merges) {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens", {"a", "b", "c", "ab", "bc", "aa"})
      .strings("tokenizer.ggml.merges", merges);
  return g;
}

TEST(CraftedBpe, LowerRankMergesFirst) {
  EXPECT_EQ(encode(load(bpe({"b c", "a b"})), "abc"), (Ids{0, 4}));
  EXPECT_EQ(encode(load(bpe({"a b", "b c"})), "abc"), (Ids{3, 2}));
}

TEST(CraftedBpe, LeftmostWinsATieAndFirstListingKeepsItsRank) {
  EXPECT_EQ(encode(load(bpe({"a a"})), "aaa"), (Ids{5, 0}));
  // "b c" listed again later does not lose its first rank.
  EXPECT_EQ(encode(load(bpe({"b c", "a b", "b c"})), "abc"), (Ids{0, 4}));
}

TEST(CraftedBpe, DefaultsForBpe) {
  const Tokenizer tok = load(bpe({"a b"}));
  EXPECT_FALSE(tok.default_add_bos());
  EXPECT_EQ(tok.bos(), -1);  // llama.cpp's default id 11 is outside this vocabulary
  EXPECT_EQ(tok.unk(), -1);
}

TEST(CraftedBpe, Llama3PreAddsBosAndTakesWholeWords) {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "llama-bpe")
      .strings("tokenizer.ggml.tokens", {"a", "b", "c", "abc", "<|begin_of_text|>"})
      .ints("tokenizer.ggml.token_type", {1, 1, 1, 1, 3})
      .strings("tokenizer.ggml.merges", {})
      .u32("tokenizer.ggml.bos_token_id", 4);
  const Tokenizer tok = load(g);
  EXPECT_TRUE(tok.default_add_bos());
  // No merges lead to "abc", but the word is a token (ignore_merges).
  EXPECT_EQ(encode(tok, "abc", {.add_bos = tok.default_add_bos()}), (Ids{4, 3}));
}

// gpt-2 pre-tokenizer with a user-defined and a control token.
VocabGguf specials(const std::string& name = "crafted") {
  VocabGguf g;
  g.str("general.name", name)
      .str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens",
               {"a", "b", "<", "c", "t", "l", ">", "<ud>", "<ctl>", "<|im_end|>", "Ġ"})
      .ints("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 1, 4, 3, 1, 1})
      .strings("tokenizer.ggml.merges", {});
  return g;
}

TEST(CraftedSpecial, UserDefinedAlwaysControlOnlyWhenParsing) {
  const Tokenizer tok = load(specials());
  EXPECT_EQ(encode(tok, "a<ud>b<ctl>"), (Ids{0, 7, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(encode(tok, "a<ud>b<ctl>", {.parse_special = true}), (Ids{0, 7, 1, 8}));
  // User-defined tokens render; control tokens only on request.
  EXPECT_EQ(tok.decode(Ids{7, 8}), "<ud>");
  EXPECT_EQ(tok.decode(Ids{7, 8}, true), "<ud><ctl>");
}

TEST(CraftedSpecial, EndOfTurnTextBecomesControlAndEndsGeneration) {
  const Tokenizer tok = load(specials());
  EXPECT_EQ(tok.eot(), 9);
  EXPECT_TRUE(tok.is_end_of_generation(9));
  EXPECT_FALSE(tok.is_end_of_generation(8));
  EXPECT_EQ(tok.token_to_piece(9), "");
  EXPECT_EQ(encode(tok, "<|im_end|>", {.parse_special = true}), Ids{9});
}

TEST(CraftedSpecial, Phi3NameStripsSpacesAfterSpecialTokens) {
  // general.name containing "phi-3" gives special tokens rstrip.
  const Tokenizer plain = load(specials());
  const Tokenizer phi = load(specials("Phi-3 mini"));
  EXPECT_EQ(encode(plain, "<ud> a"), (Ids{7, 10, 0}));
  EXPECT_EQ(encode(phi, "<ud> a"), (Ids{7, 0}));
}

TEST(CraftedSpecial, SpmPrefixesSpaceAfterSpecialTokens) {
  VocabGguf g;
  g.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a",
                                         "\xE2\x96\x81"
                                         "a"})
      .floats("tokenizer.ggml.scores", {0, 0, 0, -1, -1, -1})
      .ints("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1});
  const Tokenizer tok = load(g);
  EXPECT_EQ(encode(tok, "a"), Ids{5});
  EXPECT_EQ(encode(tok, "a</s>a", {.parse_special = true}), (Ids{5, 2, 5}));
  EXPECT_EQ(tok.decode(Ids{5, 2, 5}), "a a");
  EXPECT_EQ(tok.decode(Ids{5, 2, 5}, true), "a</s> a");
}

}  // namespace
}  // namespace lpu
