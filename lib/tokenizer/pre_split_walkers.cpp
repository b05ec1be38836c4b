// The GPT-2 and Llama-3 split expressions as single left-to-right walks.
//
// Each walk reproduces the alternation order of its expression at every
// position, including the behaviour of llama.cpp's matcher at piece ends:
// past the end of a piece a code point has no flags at all, which is how
// "\s+(?!\S)" lets a whitespace run that ends the piece stay whole.
#include "lib/tokenizer/pre_split.h"
#include "lib/tokenizer/unicode.h"

namespace lpu::tokenizer {
namespace {

constexpr std::uint32_t kPastEnd = 0xFFFFFFFF;

// A view of one piece [begin, end) of the text with the end rules above.
class PieceWalk {
 public:
  PieceWalk(const CptText& text, std::size_t begin, std::size_t end, Pieces& out)
      : text_(text), end_(end), prev_end_(begin), out_(out) {}

  std::uint32_t cpt(std::size_t pos) const { return pos < end_ ? text_.cpts[pos] : kPastEnd; }
  std::uint16_t flags(std::size_t pos) const { return pos < end_ ? text_.flags[pos] : 0; }
  bool is(std::size_t pos, std::uint16_t mask) const { return (flags(pos) & mask) != 0; }
  std::size_t end() const { return end_; }

  // Ends the current word at `pos`; returns its length (0 adds nothing).
  std::size_t emit(std::size_t pos) {
    const std::size_t len = pos - prev_end_;
    if (len > 0) out_.push_back(len);
    prev_end_ = pos;
    return len;
  }

 private:
  const CptText& text_;
  std::size_t end_;
  std::size_t prev_end_;
  Pieces& out_;
};

std::uint32_t ascii_lower(std::uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// 's 't 'm 'd 're 've 'll at `pos`: the length matched, or 0. The Llama-3
// form ignores case; lower-casing with ASCII rules is exact there because no
// other code point lower-cases to these letters (checked by the table
// generator).
std::size_t contraction_at(const PieceWalk& w, std::size_t pos, bool ignore_case) {
  if (w.cpt(pos) != '\'' || pos + 1 >= w.end()) return 0;
  auto fold = [&](std::uint32_t c) { return ignore_case ? ascii_lower(c) : c; };
  const std::uint32_t c1 = fold(w.cpt(pos + 1));
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= w.end()) return 0;
  const std::uint32_t c2 = fold(w.cpt(pos + 2));
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

constexpr std::uint16_t kWordish = kCptWhitespace | kCptLetter | kCptNumber;

// True for [^\s\p{L}\p{N}] inside the piece (past the end has no flags).
bool is_other(std::uint16_t flags) { return (flags & kWordish) == 0 && flags != 0; }

// \s+(?!\S) then \s+ at `pos`; returns false when `pos` is not whitespace.
bool take_whitespace(PieceWalk& w, std::size_t& pos) {
  std::size_t n = 0;
  while (w.is(pos + n, kCptWhitespace)) ++n;
  if (n > 1 && w.cpt(pos + n) != kPastEnd) {
    // Leave the last whitespace to prefix what follows.
    pos += n - 1;
    w.emit(pos);
    return true;
  }
  if (n > 0) {
    pos += n;
    w.emit(pos);
    return true;
  }
  return false;
}

void walk_gpt2(PieceWalk& w, std::size_t pos) {
  while (pos < w.end()) {
    const std::uint32_t c = w.cpt(pos);
    if (const std::size_t n = contraction_at(w, pos, false)) {
      pos += w.emit(pos + n);
      continue;
    }
    // " ?" prefixes: judge the class of the code point after a space.
    const std::uint16_t f = (c == ' ') ? w.flags(pos + 1) : w.flags(pos);
    if (f & kCptLetter) {
      pos += (c == ' ');
      while (w.is(pos, kCptLetter)) ++pos;
      w.emit(pos);
      continue;
    }
    if (f & kCptNumber) {
      pos += (c == ' ');
      while (w.is(pos, kCptNumber)) ++pos;
      w.emit(pos);
      continue;
    }
    if (is_other(f)) {
      pos += (c == ' ');
      while (is_other(w.flags(pos))) ++pos;
      w.emit(pos);
      continue;
    }
    if (take_whitespace(w, pos)) continue;
    w.emit(++pos);
  }
}

bool is_cr_lf(std::uint32_t c) { return c == '\r' || c == '\n'; }

// \s*[\r\n]+, \s+(?!\S), \s+ at `pos`; false when `pos` is not whitespace.
bool take_llama3_whitespace(PieceWalk& w, std::size_t& pos) {
  std::size_t n = 0;
  std::size_t last_cr_lf_end = 0;
  while (w.is(pos + n, kCptWhitespace)) {
    if (is_cr_lf(w.cpt(pos + n))) last_cr_lf_end = pos + n + 1;
    ++n;
  }
  if (last_cr_lf_end > 0) {
    pos = last_cr_lf_end;
    w.emit(pos);
    return true;
  }
  return take_whitespace(w, pos);
}

void walk_llama3(PieceWalk& w, std::size_t pos) {
  while (pos < w.end()) {
    const std::uint32_t c = w.cpt(pos);
    const std::uint16_t f = w.flags(pos);
    if (const std::size_t n = contraction_at(w, pos, true)) {
      pos += w.emit(pos + n);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!is_cr_lf(c) && !(f & kCptNumber) && ((f & kCptLetter) || w.is(pos + 1, kCptLetter))) {
      ++pos;
      while (w.is(pos, kCptLetter)) ++pos;
      w.emit(pos);
      continue;
    }
    // \p{N}{1,3}
    if (f & kCptNumber) {
      std::size_t group_begin = pos;
      while (w.is(pos, kCptNumber)) {
        if (++pos - group_begin >= 3) {
          w.emit(pos);
          group_begin = pos;
        }
      }
      w.emit(pos);
      continue;
    }
    // " ?[^\s\p{L}\p{N}]+[\r\n]*"; after a space the class is judged on the
    // next code point, and a space that ends the piece is taken alone.
    const std::uint16_t f2 = (c == ' ') ? w.flags(pos + 1) : f;
    if ((f2 & kWordish) == 0 && f != 0) {
      pos += (c == ' ');
      while (is_other(w.flags(pos))) ++pos;
      while (is_cr_lf(w.cpt(pos))) ++pos;
      w.emit(pos);
      continue;
    }
    if (take_llama3_whitespace(w, pos)) continue;
    w.emit(++pos);
  }
}

template <typename Walk>
Pieces split_each(const CptText& text, const Pieces& pieces, Walk walk) {
  Pieces out;
  out.reserve(pieces.size() * 2);
  std::size_t begin = 0;
  for (std::size_t len : pieces) {
    PieceWalk w(text, begin, begin + len, out);
    walk(w, begin);
    begin += len;
  }
  return out;
}

}  // namespace

Pieces split_gpt2(const CptText& text, const Pieces& pieces) {
  return split_each(text, pieces, walk_gpt2);
}

Pieces split_llama3(const CptText& text, const Pieces& pieces) {
  return split_each(text, pieces, walk_llama3);
}

}  // namespace lpu::tokenizer
