// Pre-tokenizer expression sequences, and the simple expressions (a class,
// a run of a class, optional whitespace plus a run, trailing whitespace,
// three ASCII digits) that the DeepSeek, SmolLM and default sequences use.
//
// The simple expressions are searched for leftmost-first within each piece,
// as a regex iterator over the piece would: every match becomes a piece and
// so does the text between matches.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <optional>

#include "lib/tokenizer/pre_split.h"
#include "lib/tokenizer/unicode.h"

namespace lpu::tokenizer {
namespace {

struct Range {
  std::uint32_t first;
  std::uint32_t last;
};

// DeepSeek LLM's letter class: the explicit ranges of its
// "\s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+" expression.
constexpr Range kDeepseekLetters[] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xB5, 0xB5},       {0xC0, 0xD6},
    {0xD8, 0xF6},       {0xF8, 0x1BA},      {0x1BC, 0x1BF},     {0x1C4, 0x293},
    {0x295, 0x2AF},     {0x370, 0x373},     {0x376, 0x377},     {0x37B, 0x37D},
    {0x37F, 0x37F},     {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},
    {0x38E, 0x3A1},     {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},
    {0x531, 0x556},     {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2102, 0x2102},   {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},
    {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},
    {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},
    {0xA680, 0xA69B},   {0xA722, 0xA76F},   {0xA771, 0xA787},   {0xA78B, 0xA78E},
    {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

// DeepSeek LLM's "\s?[!-/:-~！-／：-～‘-‟　-。]+" class.
constexpr Range kDeepseekPunct[] = {{0x21, 0x2F},     {0x3A, 0x7E},     {0xFF01, 0xFF0F},
                                    {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002}};

// Both DeepSeek sequences' "[一-龥ࠀ-一가-퟿]+" class.
constexpr Range kDeepseekCjk[] = {{0x4E00, 0x9FA5}, {0x0800, 0x4E00}, {0xAC00, 0xD7FF}};

template <std::size_t N>
bool in_ranges(const Range (&ranges)[N], std::uint32_t c) {
  return std::any_of(std::begin(ranges), std::end(ranges),
                     [c](const Range& r) { return c >= r.first && c <= r.last; });
}

// Which code points a class expression accepts.
enum class Class : std::uint8_t {
  kCrLf,          // [\r\n]
  kNumber,        // \p{N}
  kLetter,        // \p{L}
  kPunct,         // \p{P}
  kDefaultPunct,  // [\p{P}\$\+<=>\^~\|]
  kDsLetter,      // DeepSeek LLM letters
  kDsPunct,       // DeepSeek LLM punctuation
  kCjk,           // DeepSeek CJK
};

bool in_class(Class k, std::uint32_t c, std::uint16_t flags) {
  switch (k) {
    case Class::kCrLf:
      return c == '\r' || c == '\n';
    case Class::kNumber:
      return (flags & kCptNumber) != 0;
    case Class::kLetter:
      return (flags & kCptLetter) != 0;
    case Class::kPunct:
      return (flags & kCptPunctuation) != 0;
    case Class::kDefaultPunct:
      return (flags & kCptPunctuation) != 0 || c == '$' || c == '+' || c == '<' || c == '=' ||
             c == '>' || c == '^' || c == '~' || c == '|';
    case Class::kDsLetter:
      return in_ranges(kDeepseekLetters, c);
    case Class::kDsPunct:
      return in_ranges(kDeepseekPunct, c);
    case Class::kCjk:
      return in_ranges(kDeepseekCjk, c);
  }
  return false;
}

// The shapes of simple expression.
enum class Shape : std::uint8_t {
  kOne,          // X
  kRun,          // X+
  kOptWsRun,     // \s?X+
  kTrailingWs,   // \s+$
  kAsciiDigits3  // [0-9][0-9][0-9]
};

struct Expr {
  Shape shape;
  Class cls;
};

struct Match {
  std::size_t begin;
  std::size_t end;
};

class PieceSearch {
 public:
  PieceSearch(const CptText& t, std::size_t end) : t_(t), end_(end) {}
  bool has(Class k, std::size_t p) const {
    return p < end_ && in_class(k, t_.cpts[p], t_.flags[p]);
  }
  bool ws(std::size_t p) const { return p < end_ && (t_.flags[p] & kCptWhitespace) != 0; }
  bool ascii_digit(std::size_t p) const {
    return p < end_ && t_.cpts[p] >= '0' && t_.cpts[p] <= '9';
  }
  std::size_t run_end(Class k, std::size_t p) const {
    while (has(k, p)) ++p;
    return p;
  }

  // Leftmost match of `e` starting at or after `from`.
  std::optional<Match> find(const Expr& e, std::size_t from) const {
    if (e.shape == Shape::kTrailingWs) return find_trailing_ws(from);
    for (std::size_t p = from; p < end_; ++p) {
      switch (e.shape) {
        case Shape::kOne:
          if (has(e.cls, p)) return Match{p, p + 1};
          break;
        case Shape::kRun:
          if (has(e.cls, p)) return Match{p, run_end(e.cls, p)};
          break;
        case Shape::kOptWsRun:
          // A code point of the class starts a run whether or not it is also
          // whitespace; a whitespace starts one only before the class.
          if (has(e.cls, p)) return Match{p, run_end(e.cls, p)};
          if (ws(p) && has(e.cls, p + 1)) return Match{p, run_end(e.cls, p + 1)};
          break;
        case Shape::kAsciiDigits3:
          if (ascii_digit(p) && ascii_digit(p + 1) && ascii_digit(p + 2)) return Match{p, p + 3};
          break;
        case Shape::kTrailingWs:
          break;
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<Match> find_trailing_ws(std::size_t from) const {
    std::size_t p = end_;
    while (p > from && ws(p - 1)) --p;
    if (p == end_) return std::nullopt;
    return Match{p, end_};
  }

  const CptText& t_;
  std::size_t end_;
};

Pieces split_simple(const CptText& text, const Pieces& pieces, const Expr& e) {
  Pieces out;
  out.reserve(pieces.size() * 2);
  std::size_t begin = 0;
  for (std::size_t len : pieces) {
    const std::size_t end = begin + len;
    PieceSearch search(text, end);
    std::size_t done = begin;
    while (auto m = search.find(e, done)) {
      if (m->begin > done) out.push_back(m->begin - done);
      out.push_back(m->end - m->begin);
      done = m->end;
    }
    if (done < end) out.push_back(end - done);
    begin = end;
  }
  return out;
}

enum class Step : std::uint8_t { kGpt2, kLlama3, kSimple };

struct SplitStep {
  Step step;
  Expr expr;
};

std::vector<SplitStep> steps_of(PreSplit kind) {
  const SplitStep gpt2{Step::kGpt2, {}};
  auto simple = [](Shape s, Class c) { return SplitStep{Step::kSimple, {s, c}}; };
  switch (kind) {
    case PreSplit::kGpt2:
      return {gpt2};
    case PreSplit::kLlama3:
      return {{Step::kLlama3, {}}};
    case PreSplit::kDigitsGpt2:
      return {simple(Shape::kOne, Class::kNumber), gpt2};
    case PreSplit::kDeepseekLlm:
      return {simple(Shape::kOne, Class::kCrLf),         simple(Shape::kOptWsRun, Class::kDsLetter),
              simple(Shape::kOptWsRun, Class::kDsPunct), simple(Shape::kTrailingWs, Class::kCrLf),
              simple(Shape::kRun, Class::kCjk),          simple(Shape::kRun, Class::kNumber)};
    case PreSplit::kDeepseekCoder:
      return {simple(Shape::kOne, Class::kCrLf), simple(Shape::kOptWsRun, Class::kLetter),
              simple(Shape::kOptWsRun, Class::kPunct), simple(Shape::kRun, Class::kCjk),
              simple(Shape::kOne, Class::kNumber)};
    case PreSplit::kDefault:
      return {simple(Shape::kRun, Class::kDefaultPunct), gpt2, simple(Shape::kRun, Class::kNumber),
              simple(Shape::kAsciiDigits3, Class::kNumber)};
  }
  return {gpt2};
}

}  // namespace

Result<std::vector<std::string>> pre_split(PreSplit kind, std::string_view text) {
  CptText t;
  t.cpts = decode_utf8_lenient(text);
  t.flags.resize(t.cpts.size());
  for (std::size_t i = 0; i < t.cpts.size(); ++i) {
    if (t.cpts[i] >= kCptLimit) {
      char hex[16];
      std::snprintf(hex, sizeof(hex), "%X", static_cast<unsigned>(t.cpts[i]));
      return invalid_argument(std::string("input holds a UTF-8-like sequence that decodes to 0x") +
                              hex + " (past U+10FFFF), which byte-level BPE cannot encode");
    }
    t.flags[i] = cpt_flags(t.cpts[i]);
  }
  Pieces pieces{t.cpts.size()};
  for (const SplitStep& s : steps_of(kind)) {
    switch (s.step) {
      case Step::kGpt2:
        pieces = split_gpt2(t, pieces);
        break;
      case Step::kLlama3:
        pieces = split_llama3(t, pieces);
        break;
      case Step::kSimple:
        pieces = split_simple(t, pieces, s.expr);
        break;
    }
  }
  std::vector<std::string> words;
  words.reserve(pieces.size());
  std::string utf8;
  std::size_t begin = 0;
  for (std::size_t len : pieces) {
    utf8.clear();
    for (std::size_t i = begin; i < begin + len; ++i) append_utf8(t.cpts[i], utf8);
    std::string word;
    word.reserve(utf8.size() * 2);
    for (char c : utf8) word.append(byte_to_unicode(static_cast<std::uint8_t>(c)));
    words.push_back(std::move(word));
    begin += len;
  }
  return words;
}

}  // namespace lpu::tokenizer
