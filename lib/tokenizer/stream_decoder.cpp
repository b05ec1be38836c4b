// TokenStreamDecoder: token pieces in, complete UTF-8 out.
//
// Pending bytes are scanned with the well-formed UTF-8 table (Unicode 3.9,
// table 3-7): a complete character is emitted; a prefix that can still
// become one waits for more bytes; an ill-formed sequence is replaced by
// one U+FFFD per maximal subpart, the W3C/Unicode recommended practice.
#include <cstdint>

#include "include/lpu/tokenizer.h"

namespace lpu {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the character `lead` starts and the range allowed for its
// second byte; length 0 for a byte that cannot start one.
struct LeadInfo {
  int length;
  std::uint8_t lo;
  std::uint8_t hi;
};

LeadInfo lead_info(std::uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// Moves the decidable prefix of `pending` to the returned text. With
// `final`, an incomplete tail is decided too (as U+FFFD).
std::string drain(std::string& pending, bool final) {
  std::string out;
  const auto* s = reinterpret_cast<const std::uint8_t*>(pending.data());
  const std::size_t n = pending.size();
  std::size_t i = 0;
  while (i < n) {
    const LeadInfo info = lead_info(s[i]);
    if (info.length == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    // How many bytes of the sequence are valid so far.
    std::size_t valid = 1;
    while (valid < static_cast<std::size_t>(info.length) && i + valid < n) {
      const std::uint8_t b = s[i + valid];
      const std::uint8_t lo = valid == 1 ? info.lo : 0x80;
      const std::uint8_t hi = valid == 1 ? info.hi : 0xBF;
      if (b < lo || b > hi) break;
      ++valid;
    }
    if (valid == static_cast<std::size_t>(info.length)) {
      out.append(pending, i, valid);
    } else if (i + valid == n && !final) {
      break;  // may still complete
    } else {
      out += kReplacement;
    }
    i += valid;
  }
  pending.erase(0, i);
  return out;
}

}  // namespace

TokenStreamDecoder::TokenStreamDecoder(const Tokenizer& tokenizer, bool render_special)
    : tokenizer_(tokenizer), render_special_(render_special) {}

std::string TokenStreamDecoder::push(TokenId id) {
  pending_ += tokenizer_.token_to_piece(id, render_special_);
  return drain(pending_, false);
}

std::string TokenStreamDecoder::flush() {
  std::string out = drain(pending_, true);
  pending_.clear();
  return out;
}

}  // namespace lpu
