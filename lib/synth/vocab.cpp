#include "lib/synth/vocab.h"

#include <cstdio>

namespace lpu::synth {
namespace {

constexpr const char* kSpaceMarker = "\xE2\x96\x81";  // U+2581, SentencePiece's word boundary

// Appends `piece` and "▁" + `piece` while there is room.
void add_pair(Vocab& v, std::size_t n, const std::string& piece) {
  for (const std::string& p : {piece, std::string(kSpaceMarker) + piece}) {
    if (v.tokens.size() == n) return;
    v.tokens.push_back(p);
  }
}

// Lower-case strings of `len` letters in lexicographic order, until full.
void add_letters(Vocab& v, std::size_t n, int len) {
  std::string s(static_cast<std::size_t>(len), 'a');
  for (;;) {
    if (v.tokens.size() == n) return;
    add_pair(v, n, s);
    int i = len - 1;
    while (i >= 0 && s[static_cast<std::size_t>(i)] == 'z') s[static_cast<std::size_t>(i--)] = 'a';
    if (i < 0) return;
    ++s[static_cast<std::size_t>(i)];
  }
}

}  // namespace

Result<Vocab> build_vocab(int n_vocab) {
  if (n_vocab < kMinVocab || n_vocab > kMaxVocab) {
    return invalid_argument("n_vocab " + std::to_string(n_vocab) + " (expected " +
                            std::to_string(kMinVocab) + ".." + std::to_string(kMaxVocab) +
                            ": three special tokens and 256 byte tokens come first)");
  }
  const auto n = static_cast<std::size_t>(n_vocab);
  Vocab v;
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {kUnknown, kControl, kControl};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    v.tokens.emplace_back(buf);
    v.types.push_back(kByte);
  }
  v.tokens.emplace_back(kSpaceMarker);
  for (char c = '!'; c <= '~' && v.tokens.size() < n; ++c) add_pair(v, n, std::string(1, c));
  for (int len = 2; v.tokens.size() < n; ++len) add_letters(v, n, len);
  v.tokens.resize(n);
  v.types.resize(n, kNormal);
  v.scores.assign(n, 0.0f);
  for (std::size_t i = kMinVocab; i < n; ++i) v.scores[i] = -static_cast<float>(i - kMinVocab);
  return v;
}

}  // namespace lpu::synth
