// Pre-tokenizer splits and code point classes, checked piece by piece.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/tokenizer/pre_split.h"
#include "lib/tokenizer/unicode.h"

namespace lpu::tokenizer {
namespace {

using Words = std::vector<std::string>;

// The words of `text`, mapped back from the byte-level alphabet.
Words split(PreSplit kind, const std::string& text) {
  auto words = pre_split(kind, text);
  EXPECT_TRUE(words.ok()) << words.status().to_string();
  Words out;
  if (!words.ok()) return out;
  for (const std::string& w : *words) {
    std::string raw;
    for (std::uint32_t cpt : decode_utf8_lenient(w)) {
      const int b = unicode_to_byte(cpt);
      EXPECT_GE(b, 0);
      raw.push_back(static_cast<char>(b));
    }
    out.push_back(raw);
  }
  return out;
}

TEST(PreSplit, Gpt2) {
  EXPECT_EQ(split(PreSplit::kGpt2, "Hello world's  12ab"),
            (Words{"Hello", " world", "'s", " ", " 12", "ab"}));
  // Case matters for GPT-2's contractions.
  EXPECT_EQ(split(PreSplit::kGpt2, "I'M don't"), (Words{"I", "'", "M", " don", "'t"}));
  // A whitespace run that ends the text stays whole.
  EXPECT_EQ(split(PreSplit::kGpt2, "a  "), (Words{"a", "  "}));
  EXPECT_EQ(split(PreSplit::kGpt2, "a\n\nb"), (Words{"a", "\n", "\n", "b"}));
  EXPECT_EQ(split(PreSplit::kGpt2, " ?!x"), (Words{" ?!", "x"}));
  EXPECT_EQ(split(PreSplit::kGpt2, ""), Words{});
}

TEST(PreSplit, Llama3) {
  EXPECT_EQ(split(PreSplit::kLlama3, "I'M 12345 abc\r\n\n  x"),
            (Words{"I", "'M", " ", "123", "45", " abc", "\r\n\n", " ", " x"}));
  EXPECT_EQ(split(PreSplit::kLlama3, "(hello) ...\nok"), (Words{"(hello", ")", " ...\n", "ok"}));
}

TEST(PreSplit, SmollmSplitsDigitsFirst) {
  EXPECT_EQ(split(PreSplit::kDigitsGpt2, "abc 12345 x"),
            (Words{"abc", " ", "1", "2", "3", "4", "5", " x"}));
  EXPECT_EQ(split(PreSplit::kDigitsGpt2, "x²½"), (Words{"x", "²", "½"}));
}

TEST(PreSplit, DeepseekCoder) {
  EXPECT_EQ(split(PreSplit::kDeepseekCoder, "Hello, 世界 42!\n"),
            (Words{"Hello", ",", " ", "世界", " ", "4", "2", "!", "\n"}));
}

TEST(PreSplit, DeepseekLlm) {
  EXPECT_EQ(split(PreSplit::kDeepseekLlm, "Hello  world\t\n"),
            (Words{"Hello", " ", " world", "\t", "\n"}));
  EXPECT_EQ(split(PreSplit::kDeepseekLlm, "x 日本  "), (Words{"x", " ", "日本", "  "}));
  EXPECT_EQ(split(PreSplit::kDeepseekLlm, "a 123 456"), (Words{"a", " ", "123", " ", "456"}));
  // Each expression splits the previous one's matches too: the punctuation
  // class holds ASCII letters, so it cuts "mega" out of the letter run.
  // '«' and '»' are in neither class.
  EXPECT_EQ(split(PreSplit::kDeepseekLlm, "\u03A9mega, «q»"),
            (Words{"\u03A9", "mega", ",", " «", "q", "»"}));
}

TEST(PreSplit, Default) {
  EXPECT_EQ(split(PreSplit::kDefault, "a+b=12345!"), (Words{"a", "+", "b", "=", "123", "45", "!"}));
}

TEST(PreSplit, InvalidUtf8IsReencodedAsLlamaCppDoes) {
  // A stray byte becomes U+FFFD; an overlong NUL becomes a real NUL.
  EXPECT_EQ(split(PreSplit::kGpt2,
                  "a\xFF"
                  "b"),
            (Words{"a", "\xEF\xBF\xBD", "b"}));
  EXPECT_EQ(split(PreSplit::kGpt2, "a\xC0\x80"), (Words{"a", std::string(1, '\0')}));
  // Past U+10FFFF there is no UTF-8 to re-encode to.
  EXPECT_FALSE(pre_split(PreSplit::kGpt2, "\xF4\x90\x80\x80").ok());
}

TEST(Unicode, Classes) {
  EXPECT_EQ(cpt_flags('A'), kCptLetter);
  EXPECT_EQ(cpt_flags('7'), kCptNumber);
  EXPECT_EQ(cpt_flags(' '), kCptSeparator | kCptWhitespace);
  EXPECT_EQ(cpt_flags('\n'), kCptControl | kCptWhitespace);
  EXPECT_EQ(cpt_flags('_'), kCptPunctuation);
  EXPECT_EQ(cpt_flags('$'), kCptSymbol);
  EXPECT_EQ(cpt_flags(0x0663), kCptNumber);                      // ARABIC-INDIC DIGIT THREE
  EXPECT_EQ(cpt_flags(0x3000), kCptSeparator | kCptWhitespace);  // IDEOGRAPHIC SPACE
  EXPECT_EQ(cpt_flags(0x0085), kCptControl | kCptWhitespace);    // NEXT LINE
  EXPECT_EQ(cpt_flags(0x0301), kCptMark);
  EXPECT_EQ(cpt_flags(0x4E00), kCptLetter);
  EXPECT_EQ(cpt_flags(0x1F999), kCptSymbol);
  EXPECT_EQ(cpt_flags(0x0378), kCptUndefined);
  EXPECT_EQ(cpt_flags(0xE000), kCptControl);  // private use
  EXPECT_EQ(cpt_flags(0x10FFFF), kCptUndefined);
  EXPECT_EQ(cpt_flags(0x110000), kCptUndefined);
}

TEST(Unicode, LenientDecoding) {
  EXPECT_EQ(decode_utf8_lenient("a\xC3\xA9\xE2\x82"),
            (std::vector<std::uint32_t>{'a', 0xE9, kReplacementChar, kReplacementChar}));
  EXPECT_EQ(decode_utf8_lenient("\xED\xA0\x80\xF8"),
            (std::vector<std::uint32_t>{0xD800, kReplacementChar}));
}

TEST(Unicode, ByteLevelAlphabetIsABijection) {
  for (int b = 0; b < 256; ++b) {
    const auto cpts = decode_utf8_lenient(byte_to_unicode(static_cast<std::uint8_t>(b)));
    ASSERT_EQ(cpts.size(), 1u);
    EXPECT_EQ(unicode_to_byte(cpts[0]), b);
  }
  EXPECT_EQ(byte_to_unicode(' '), "\xC4\xA0");  // 'Ġ'
  EXPECT_EQ(byte_to_unicode('A'), "A");
  EXPECT_EQ(unicode_to_byte(0x2581), -1);
}

}  // namespace
}  // namespace lpu::tokenizer
