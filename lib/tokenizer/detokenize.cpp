// Tokenizer::decode: pieces joined as llama.cpp's detokenizer joins them.
#include "include/lpu/tokenizer.h"
#include "lib/tokenizer/vocab.h"

namespace lpu {
namespace {

bool is_stop_punct(char c) { return c == '?' || c == '!' || c == '.' || c == ','; }

// Drops the space before ?!., (" ?" -> "?").
void clean_space_before_punct(std::string& t) {
  const std::size_t n = t.size();
  std::size_t total = n ? 1 : 0;
  for (std::size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && is_stop_punct(x)) --total;
    t[total++] = x;
  }
  t.resize(total);
}

// Drops the spaces around a lone apostrophe (" ' " -> "'"). The space after
// it is overwritten with NUL before being skipped, so that a following
// apostrophe does not see it as a space; this keeps llama.cpp's exact
// behaviour on runs like " ' ' ".
void clean_lone_apostrophe(std::string& t) {
  const std::size_t n = t.size();
  std::size_t total = n ? 1 : 0;
  for (std::size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
      --total;
      t[++i] = '\0';
    }
    t[total++] = x;
  }
  t.resize(total);
}

// Drops the space before the contractions 's 'm 're 've (" 's" -> "'s").
void clean_contractions(std::string& t) {
  const std::size_t n = t.size();
  std::size_t total = n ? 1 : 0;
  for (std::size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = t[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (i + 2 < n && x1 != 't' && x1 != 'd') {
        const char x2 = t[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    t[total++] = x;
  }
  t.resize(total);
}

}  // namespace

std::string Tokenizer::decode(std::span<const TokenId> ids, bool render_special) const {
  std::string text;
  // The space an SPM vocabulary put before the text is not part of it.
  bool strip_space = impl_->add_space_prefix;
  for (TokenId id : ids) {
    const std::string piece = token_to_piece(id, render_special);
    const bool strip = strip_space && !piece.empty() && piece[0] == ' ';
    text.append(piece, strip ? 1 : 0);
    strip_space = false;
  }
  if (impl_->clean_spaces) {
    clean_space_before_punct(text);
    clean_lone_apostrophe(text);
    clean_contractions(text);
  }
  return text;
}

}  // namespace lpu
