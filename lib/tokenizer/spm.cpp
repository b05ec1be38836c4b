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
#include <queue>

#include "lib/tokenizer/encoders.h"
#include "lib/tokenizer/unicode.h"

namespace lpu::tokenizer {
namespace {

struct Symbol {
  int prev;
  int next;
  std::size_t offset;
  std::size_t length;  // 0 once merged into its left neighbour
};

struct Bigram {
  int left;
  int right;
  float score;
  std::size_t length;
};

struct WorseBigram {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class SpmSession {
 public:
  SpmSession(const Tokenizer::Impl& vocab, std::string_view text) : vocab_(vocab), text_(text) {}

  Status run(std::vector<TokenId>& out) {
    split_characters();
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) try_add(i - 1, i);
    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[b.left];
      Symbol& right = symbols_[b.right];
      if (left.length == 0 || right.length == 0 || left.length + right.length != b.length) continue;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = b.left;
      try_add(left.prev, b.left);
      try_add(b.left, left.next);
    }
    for (int i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[i].next) {
      LPU_TRY(emit(symbols_[i], out), "");
    }
    return {};
  }

 private:
  void split_characters() {
    std::size_t offset = 0;
    int index = 0;
    while (offset < text_.size()) {
      const std::size_t len = std::min(utf8_len_from_lead(static_cast<std::uint8_t>(text_[offset])),
                                       text_.size() - offset);
      offset += len;
      symbols_.push_back({index - 1, offset == text_.size() ? -1 : index + 1, offset - len, len});
      ++index;
    }
  }

  void try_add(int left, int right) {
    if (left < 0 || right < 0) return;
    const std::size_t length = symbols_[left].length + symbols_[right].length;
    const TokenId id = vocab_.find(text_.substr(symbols_[left].offset, length));
    if (id < 0) return;
    queue_.push({left, right, vocab_.scores[id], length});
  }

  Status emit(const Symbol& s, std::vector<TokenId>& out) const {
    const std::string_view piece = text_.substr(s.offset, s.length);
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
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, WorseBigram> queue_;
};

}  // namespace

Status spm_encode(const Tokenizer::Impl& vocab, std::string_view text, std::vector<TokenId>& out) {
  SpmSession session(vocab, text);
  return session.run(out);
}

}  // namespace lpu::tokenizer
