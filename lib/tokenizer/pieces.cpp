// Rendering one token as the bytes it stands for (llama.cpp's
// token_to_piece with special = true; the caller hides control tokens).
#include <cstdio>

#include "lib/tokenizer/load_internal.h"
#include "lib/tokenizer/unicode.h"

namespace lpu::tokenizer {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // '▁'

std::string unescape_spm(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
      out.push_back(' ');
      i += kSpmSpace.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of a "<0xNN>" token: the hex digits at positions 3 and 4, read
// up to the first non-digit (0 when there are none).
char byte_of(std::string_view text) {
  int value = 0;
  for (std::size_t i = 3; i < 5 && i < text.size(); ++i) {
    const int d = hex_digit(text[i]);
    if (d < 0) break;
    value = value * 16 + d;
  }
  return static_cast<char>(value);
}

// Maps byte-level alphabet text back to bytes. A code point outside the
// alphabet is rendered as "[UNK_BYTE_0x<its UTF-8 in hex><text>]", as
// llama.cpp renders it.
std::string decode_byte_level(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::uint32_t cpt : decode_utf8_lenient(text)) {
    const int byte = unicode_to_byte(cpt);
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
      continue;
    }
    std::string utf8;
    append_utf8(cpt < kCptLimit ? cpt : kReplacementChar, utf8);
    out += "[UNK_BYTE_0x";
    for (char c : utf8) {
      char hex[3];
      std::snprintf(hex, sizeof(hex), "%02x", static_cast<unsigned>(static_cast<std::uint8_t>(c)));
      out += hex;
    }
    out.append(text);
    out += "]";
  }
  return out;
}

}  // namespace

std::string render_piece(const Tokenizer::Impl& v, TokenId id) {
  const std::uint16_t attr = v.attrs[id];
  const std::string& text = v.texts[id];
  if (attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
  if (attr & kAttrNormal) {
    return v.type == VocabType::kSpm ? unescape_spm(text) : decode_byte_level(text);
  }
  if (attr & kAttrByte) return std::string(1, byte_of(text));
  // Unused and undefined tokens render as nothing.
  return {};
}

}  // namespace lpu::tokenizer
