// Cutting special tokens out of the input before the encoders run, as
// llama.cpp's tokenizer_st_partition does.
#include "lib/tokenizer/encoders.h"

namespace lpu::tokenizer {
namespace {

// The C locale's isspace, which lstrip/rstrip use.
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Splits the raw fragment `f` at each occurrence of token `id`, appending
// the results to `out`.
void split_fragment(const Tokenizer::Impl& vocab, std::string_view text, const Fragment& f,
                    TokenId id, std::vector<Fragment>& out) {
  const std::string& needle = vocab.texts[id];
  const std::uint16_t attr = vocab.attrs[id];
  std::size_t begin = f.offset;
  std::size_t end = f.offset + f.length;
  while (begin < end) {
    const std::size_t match = text.substr(0, end).find(needle, begin);
    if (match == std::string_view::npos) break;
    std::size_t left_end = match;
    if (attr & kAttrLstrip) {
      while (left_end > begin && is_c_space(text[left_end - 1])) --left_end;
    }
    if (left_end > begin) out.push_back({-1, begin, left_end - begin});
    out.push_back({id, 0, 0});
    begin = match + needle.size();
    if (attr & kAttrRstrip) {
      while (begin < end && is_c_space(text[begin])) ++begin;
    }
  }
  if (begin < end) out.push_back({-1, begin, end - begin});
}

}  // namespace

std::vector<Fragment> partition_special(const Tokenizer::Impl& vocab, std::string_view text,
                                        bool parse_special) {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({-1, 0, text.size()});
  std::vector<Fragment> next;
  for (TokenId id : vocab.special_tokens) {
    if (!parse_special && (vocab.attrs[id] & (kAttrControl | kAttrUnknown))) continue;
    next.clear();
    bool changed = false;
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      const std::size_t before = next.size();
      split_fragment(vocab, text, f, id, next);
      changed = changed || next.size() != before + 1 || next.back().token >= 0 ||
                next.back().length != f.length;
    }
    if (changed) fragments.swap(next);
  }
  return fragments;
}

}  // namespace lpu::tokenizer
