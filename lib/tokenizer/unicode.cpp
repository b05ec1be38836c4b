// Code point helpers for the tokenizers.
#include "lib/tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace lpu::tokenizer {
namespace {

std::uint16_t lookup_flags(std::uint32_t cpt) {
  const CptRange* begin = kCptRangeTable;
  const CptRange* end = kCptRangeTable + kCptRangeCount;
  // The last row whose `first` is <= cpt.
  const CptRange* it = std::upper_bound(
      begin, end, cpt, [](std::uint32_t c, const CptRange& r) { return c < r.first; });
  return (it == begin) ? kCptUndefined : (it - 1)->flags;
}

// Text is mostly ASCII, so its flags skip the binary search.
const std::array<std::uint16_t, 128>& ascii_flags() {
  static const std::array<std::uint16_t, 128> table = [] {
    std::array<std::uint16_t, 128> t{};
    for (std::uint32_t c = 0; c < 128; ++c) t[c] = lookup_flags(c);
    return t;
  }();
  return table;
}

// The printable bytes keep their own code point; the other 68 bytes take
// U+0100.. in byte order (GPT-2's bytes_to_unicode).
bool keeps_own_code_point(int byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE);
}

struct ByteAlphabet {
  std::array<std::string, 256> utf8;
  std::array<std::uint32_t, 256> cpt{};
};

const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet alphabet = [] {
    ByteAlphabet a;
    std::uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      a.cpt[b] = keeps_own_code_point(b) ? static_cast<std::uint32_t>(b) : next++;
      append_utf8(a.cpt[b], a.utf8[b]);
    }
    return a;
  }();
  return alphabet;
}

bool is_continuation(std::uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

std::uint16_t cpt_flags(std::uint32_t cpt) {
  if (cpt < 128) return ascii_flags()[cpt];
  if (cpt >= kCptLimit) return kCptUndefined;
  return lookup_flags(cpt);
}

std::vector<std::uint32_t> decode_utf8_lenient(std::string_view text) {
  std::vector<std::uint32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const std::uint8_t*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t b0 = s[i];
    std::size_t len = 0;
    std::uint32_t value = 0;
    if (b0 < 0x80) {
      len = 1;
      value = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      value = b0 & 0x1Fu;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      value = b0 & 0x0Fu;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      value = b0 & 0x07u;
    }
    // A stray continuation byte, 0xF8..0xFF, or a sequence cut short or
    // broken: one U+FFFD for this byte alone.
    bool ok = len != 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      if (!is_continuation(s[i + k])) ok = false;
      value = (value << 6) | (s[i + k] & 0x3Fu);
    }
    if (!ok) {
      out.push_back(kReplacementChar);
      ++i;
      continue;
    }
    out.push_back(value);
    i += len;
  }
  return out;
}

void append_utf8(std::uint32_t cpt, std::string& out) {
  if (cpt < 0x80) {
    out.push_back(static_cast<char>(cpt));
  } else if (cpt < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | ((cpt >> 18) & 0x07)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  }
}

std::string_view byte_to_unicode(std::uint8_t byte) { return byte_alphabet().utf8[byte]; }

int unicode_to_byte(std::uint32_t cpt) {
  if (cpt < 256) return keeps_own_code_point(static_cast<int>(cpt)) ? static_cast<int>(cpt) : -1;
  if (cpt >= 256 + 68) return -1;
  const auto& a = byte_alphabet();
  for (int b = 0; b < 256; ++b) {
    if (a.cpt[b] == cpt) return b;
  }
  return -1;
}

}  // namespace lpu::tokenizer
