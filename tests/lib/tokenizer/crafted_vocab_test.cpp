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

// Byte-level BPE over a b c Ġ < > / s | E O T l t x, with "</s>" and
// "<|EOT|>" user-defined (type 4), "<ctl>" and three more control tokens,
// and EOS "<|EOT|>". Expected ids, texts and flags below were recorded from
// llama.cpp (llama-cpp-python 0.3.35) on the same vocabulary.
VocabGguf user_defined_eos(const std::string& name) {
  VocabGguf g;
  g.str("general.name", name)
      .str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens",
               {"a",     "b", "c", "\xC4\xA0", "<",     ">",    "/",
                "s",     "|", "E", "O",        "T",     "</s>", "<|EOT|>",
                "<ctl>", "l", "t", "x",        "<unk>", "<s>",  "<|endoftext|>"})
      .ints("tokenizer.ggml.token_type",
            {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 3, 1, 1, 1, 3, 3, 3})
      .strings("tokenizer.ggml.merges", {"a b"})
      .u32("tokenizer.ggml.eos_token_id", 13);
  return g;
}

TEST(CraftedSpecial, UserDefinedEndOfGenerationTextBecomesControl) {
  // "</s>" is one of llama.cpp's end-of-generation texts: the type-4 token
  // gains the control attribute, so it is cut out only when parsing
  // specials and decodes to "" unless specials are rendered.
  const Tokenizer tok = load(user_defined_eos("crafted"));
  EXPECT_TRUE(tok.is_end_of_generation(12));
  EXPECT_EQ(encode(tok, "a</s>b"), (Ids{0, 4, 6, 7, 5, 1}))
      << "</s> must stay text without parse_special";
  EXPECT_EQ(encode(tok, "a</s>b", {.parse_special = true}), (Ids{0, 12, 1}));
  EXPECT_EQ(tok.decode(Ids{0, 12, 1}), "ab") << "a control token must decode to \"\" by default";
  EXPECT_EQ(tok.decode(Ids{0, 12, 1}, true), "a</s>b");
  EXPECT_EQ(tok.token_to_piece(12), "");
}

TEST(CraftedSpecial, UserDefinedEosOutsideTheEndTextsStaysUserDefined) {
  // "<|EOT|>" is EOS but not one of the end-of-generation texts: it ends
  // generation, yet stays user-defined, so it is always cut out and always
  // rendered.
  const Tokenizer tok = load(user_defined_eos("crafted"));
  EXPECT_EQ(tok.eos(), 13);
  EXPECT_TRUE(tok.is_end_of_generation(13));
  EXPECT_TRUE(tok.is_end_of_generation(20));
  EXPECT_EQ(encode(tok, "a<|EOT|>b"), (Ids{0, 13, 1}))
      << "a user-defined token is cut out even without parse_special";
  EXPECT_EQ(encode(tok, "a <|EOT|>  b"), (Ids{0, 3, 13, 3, 3, 1})) << "spaces kept";
  EXPECT_EQ(encode(tok, "<|EOT|></s><ctl>"), (Ids{13, 4, 6, 7, 5, 4, 2, 16, 15, 5}));
  EXPECT_EQ(encode(tok, "<|EOT|></s><ctl>", {.parse_special = true}), (Ids{13, 12, 14}));
  EXPECT_EQ(tok.decode(Ids{13, 12, 14}), "<|EOT|>");
  EXPECT_EQ(tok.decode(Ids{13, 12, 14}, true), "<|EOT|></s><ctl>");
  EXPECT_EQ(tok.token_to_piece(13), "<|EOT|>");
  EXPECT_EQ(encode(tok, "a<|endoftext|> b", {.parse_special = true}), (Ids{0, 20, 3, 1}));
}

TEST(CraftedSpecial, Phi3RstripAppliesToUserDefinedTokensWithoutParsing) {
  // The Phi-3 rule gives every special token rstrip ("<|endoftext|>" and a
  // few others excepted); a user-defined token is cut out without
  // parse_special, so the spaces after it go even then.
  const Tokenizer tok = load(user_defined_eos("Phi-3 mini"));
  EXPECT_EQ(encode(tok, "a <|EOT|>  b"), (Ids{0, 3, 13, 1}));
  EXPECT_EQ(encode(tok, "a </s>  b"), (Ids{0, 3, 4, 6, 7, 5, 3, 3, 1})) << "</s> is control";
  EXPECT_EQ(encode(tok, "a </s>  b", {.parse_special = true}), (Ids{0, 3, 12, 1}));
  EXPECT_EQ(encode(tok, "a<ctl> b", {.parse_special = true}), (Ids{0, 14, 1}));
  EXPECT_EQ(encode(tok, "a<|endoftext|> b", {.parse_special = true}), (Ids{0, 20, 3, 1}))
      << "<|endoftext|> keeps the space after it";
}

TEST(CraftedSpecial, EqualLengthOverlapsResolveInLlamaCppOrder) {
  // 20 user-defined two-letter tokens: where two overlap ("bc" and "cd" in
  // "bcd") the one llama.cpp tries first wins. Its order among equal
  // lengths is what libstdc++'s std::sort leaves, not the ids' ("bc" has the
  // lower id here). Expected ids recorded from llama.cpp as above.
  std::vector<std::string> tokens = {"a", "b", "c", "\xC4\xA0"};
  std::vector<std::int32_t> types = {1, 1, 1, 1};
  for (char x : std::string("abcde")) {
    for (char y : std::string("abcde")) {
      if (x == y) continue;
      tokens.push_back({x, y});  // "ab" is 4, "bc" 9, "cb" 13, "cd" 14, "ed" 23
      types.push_back(4);
    }
  }
  tokens.insert(tokens.end(), {"d", "e"});  // 24, 25
  types.insert(types.end(), {1, 1});
  VocabGguf g;
  g.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens", tokens)
      .ints("tokenizer.ggml.token_type", types)
      .strings("tokenizer.ggml.merges", {"a b"});
  const Tokenizer tok = load(g);
  EXPECT_EQ(encode(tok, "bcd"), (Ids{1, 14})) << "ties must be tried in llama.cpp's order";
  EXPECT_EQ(encode(tok, "edcba"), (Ids{23, 13, 0}));
  EXPECT_EQ(encode(tok, "abcde"), (Ids{4, 14, 25}));
  EXPECT_EQ(encode(tok, "bab"), (Ids{1, 4}));
  EXPECT_EQ(encode(tok, "eae"), (Ids{20, 25}));
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
