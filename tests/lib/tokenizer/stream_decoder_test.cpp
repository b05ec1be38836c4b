// TokenStreamDecoder: complete characters as soon as possible, never a split
// character, U+FFFD only for bytes that can no longer become valid.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "include/lpu/tokenizer.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// Strict UTF-8 check (no overlongs, surrogates or values past U+10FFFF).
bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    const unsigned char b = p[i];
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b < 0x80)
      len = 1;
    else if (b >= 0xC2 && b <= 0xDF)
      len = 2;
    else if (b == 0xE0)
      len = 3, lo = 0xA0;
    else if (b == 0xED)
      len = 3, hi = 0x9F;
    else if (b >= 0xE1 && b <= 0xEF)
      len = 3;
    else if (b == 0xF0)
      len = 4, lo = 0x90;
    else if (b == 0xF4)
      len = 4, hi = 0x8F;
    else if (b >= 0xF1 && b <= 0xF3)
      len = 4;
    else
      return false;
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned char c = p[i + k];
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

class StreamDecoder : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = testing::stories260k_path();
    LPU_REQUIRE_FILE(path, "stories260K.gguf");
    auto tok = Tokenizer::from_gguf(path.string());
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    tok_ = std::make_unique<Tokenizer>(std::move(*tok));
  }
  // stories260K's <0xNN> tokens are ids 3..258.
  static TokenId byte(int b) { return b + 3; }

  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(StreamDecoder, HoldsSplitCharactersUntilComplete) {
  TokenStreamDecoder d(*tok_);
  // "日本" is six byte tokens after the '▁' token.
  EXPECT_EQ(d.push(410), " ");
  EXPECT_EQ(d.push(byte(0xE6)), "");
  EXPECT_EQ(d.push(byte(0x97)), "");
  EXPECT_EQ(d.push(byte(0xA5)), "日");
  EXPECT_EQ(d.push(byte(0xE6)), "");
  EXPECT_EQ(d.push(byte(0x9C)), "");
  EXPECT_EQ(d.push(byte(0xAC)), "本");
  EXPECT_EQ(d.flush(), "");
}

TEST_F(StreamDecoder, FourByteCharacterAndMixedText) {
  TokenStreamDecoder d(*tok_);
  std::string out;
  for (int b : {0xF0, 0x9F, 0xA6}) out += d.push(byte(b));
  EXPECT_EQ(out, "");
  out += d.push(byte(0x99));
  EXPECT_EQ(out, "🦙");
  EXPECT_EQ(d.push(444), "x");
}

TEST_F(StreamDecoder, InvalidBytesBecomeReplacementAsSoonAsCertain) {
  TokenStreamDecoder d(*tok_);
  EXPECT_EQ(d.push(byte(0xFF)), kFffd);
  EXPECT_EQ(d.push(byte(0x80)), kFffd);  // a stray continuation byte
  EXPECT_EQ(d.push(byte(0xE6)), "");
  EXPECT_EQ(d.push(444), kFffd + "x");  // a lead byte cut short by text
  EXPECT_EQ(d.push(byte(0xE6)), "");
  EXPECT_EQ(d.push(byte(0x97)), "");
  // One U+FFFD for the maximal valid prefix E6 97, one for FF.
  EXPECT_EQ(d.push(byte(0xFF)), kFffd + kFffd);
  // Surrogates and overlongs can be ruled out at the second byte.
  EXPECT_EQ(d.push(byte(0xED)), "");
  EXPECT_EQ(d.push(byte(0xA0)), kFffd + kFffd);
  EXPECT_EQ(d.push(byte(0xC0)), kFffd);
  EXPECT_EQ(d.push(byte(0xE0)), "");
  EXPECT_EQ(d.push(byte(0x80)), kFffd + kFffd);
  EXPECT_EQ(d.push(byte(0xF4)), "");
  EXPECT_EQ(d.push(byte(0x90)), kFffd + kFffd);
}

TEST_F(StreamDecoder, FlushReplacesAnIncompleteTailAndResets) {
  TokenStreamDecoder d(*tok_);
  EXPECT_EQ(d.push(byte(0xF0)), "");
  EXPECT_EQ(d.push(byte(0x9F)), "");
  EXPECT_EQ(d.flush(), kFffd);
  EXPECT_EQ(d.flush(), "");
  EXPECT_EQ(d.push(444), "x");
}

TEST_F(StreamDecoder, ConcatenationEqualsThePieces) {
  const std::string text = "Once upon a time 日本 🦙 café";
  auto ids = tok_->encode(text, {.add_bos = true});
  ASSERT_TRUE(ids.ok());
  TokenStreamDecoder d(*tok_);
  std::string streamed;
  std::string pieces;
  for (TokenId id : *ids) {
    const std::string part = d.push(id);
    EXPECT_TRUE(valid_utf8(part));
    streamed += part;
    pieces += tok_->token_to_piece(id);
  }
  streamed += d.flush();
  EXPECT_EQ(streamed, pieces);
  EXPECT_EQ(streamed, " " + text);
}

TEST_F(StreamDecoder, RenderSpecialOption) {
  TokenStreamDecoder plain(*tok_);
  TokenStreamDecoder special(*tok_, /*render_special=*/true);
  EXPECT_EQ(plain.push(2), "");
  EXPECT_EQ(special.push(2), "</s>");
}

// Byte-level BPE: an emoji's bytes spread over several tokens.
TEST(StreamDecoderBpe, SmolLM2EmojiAndCjkStreamWholeCharacters) {
  const auto path = testing::smollm2_q4_1_path();
  LPU_REQUIRE_FILE(path, "SmolLM2-135M-Instruct Q4_1");
  auto tok = Tokenizer::from_gguf(path.string());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const std::string text =
      "🚀 😶‍🌫️ 我想在apple工作 — ✅ 👨‍👩‍👧‍👦";
  auto ids = tok->encode(text, {});
  ASSERT_TRUE(ids.ok());
  TokenStreamDecoder d(*tok);
  std::string streamed;
  int partial_tokens = 0;
  for (TokenId id : *ids) {
    const std::string part = d.push(id);
    EXPECT_TRUE(valid_utf8(part)) << id;
    if (!valid_utf8(tok->token_to_piece(id))) ++partial_tokens;
    streamed += part;
  }
  streamed += d.flush();
  EXPECT_EQ(streamed, text);
  EXPECT_GT(partial_tokens, 0) << "the text should split some character across tokens";
}

}  // namespace
}  // namespace lpu
