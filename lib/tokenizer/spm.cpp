// SentencePiece-style encoding by score-ordered bigram merges, as llama.cpp's
// SPM tokenizer does it.
//
// The text starts as one symbol per UTF-8 character (lengths judged from the
// lead byte). Every adjacent pair whose concatenation is a token is queued
// with that token's score; the best pair merges (higher score first, then
// the leftmost), and the merged symbol's new pairs are queued. Queue entries
// made stale by earlier merges are recognised by their length and skipped.
// Symbols that are not tokens at the end become byte tokens.
#include <cstdio>
#include <optional>

#include "lib/tokenizer/encoders.h"
#include "lib/tokenizer/symbol_list.h"

namespace lpu::tokenizer {
namespace {

struct Bigram {
  int left;
  int right;
  float score;
  std::size_t length;  // the pair's length when queued

  bool current(const Symbol& l, const Symbol& r) const { return l.length + r.length == length; }
};

struct WorseBigram {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class SpmSession {
 public:
  SpmSession(const Tokenizer::Impl& vocab, std::string_view text)
      : vocab_(vocab), symbols_(SymbolList::characters(text)) {}

  Status run(std::vector<TokenId>& out) {
    merge_best_first<Bigram, WorseBigram>(
        symbols_, [this](int left, int right) { return pair(left, right); });
    for (int i = symbols_.size() == 0 ? -1 : 0; i != -1; i = symbols_[i].next) {
      LPU_TRY(emit(symbols_[i], out), "");
    }
    return {};
  }

 private:
  std::optional<Bigram> pair(int left, int right) const {
    const std::size_t length = symbols_[left].length + symbols_[right].length;
    const TokenId id = vocab_.find(symbols_.text().substr(symbols_[left].offset, length));
    if (id < 0) return std::nullopt;
    return Bigram{left, right, vocab_.scores[id], length};
  }

  Status emit(const Symbol& s, std::vector<TokenId>& out) const {
    const std::string_view piece = symbols_.piece(s);
    if (const TokenId id = vocab_.find(piece); id >= 0) {
      out.push_back(id);
      return {};
    }
    for (char c : piece) {
      const TokenId id = vocab_.byte_tokens[static_cast<std::uint8_t>(c)];
      if (id < 0) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>",
                      static_cast<unsigned>(static_cast<std::uint8_t>(c)));
        return invalid_argument(vocab_.path + ": the vocabulary has no byte token " + name +
                                " (nor a token for the byte itself) for byte fallback");
      }
      out.push_back(id);
    }
    return {};
  }

  const Tokenizer::Impl& vocab_;
  SymbolList symbols_;
};

}  // namespace

Status spm_encode(const Tokenizer::Impl& vocab, std::string_view text, std::vector<TokenId>& out) {
  SpmSession session(vocab, text);
  return session.run(out);
}

}  // namespace lpu::tokenizer
