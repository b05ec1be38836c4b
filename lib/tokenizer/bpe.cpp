// Byte-level BPE encoding by ranked merges, as llama.cpp's BPE tokenizer
// does it.
//
// Each pre-tokenized word starts as one symbol per character of the
// byte-level alphabet. Adjacent pairs listed in the merges are queued by
// rank; the lowest rank merges first (the leftmost on ties) and the merged
// symbol's new pairs are queued. A queued pair is stale when either side
// changed since it was queued. Final symbols that are not tokens are emitted
// byte by byte, keeping only the single-byte strings that are tokens.
#include <queue>

#include "lib/tokenizer/encoders.h"
#include "lib/tokenizer/pre_split.h"
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
  std::int32_t rank;
  std::size_t left_length;  // the sides' lengths when queued
  std::size_t right_length;
};

struct WorseBigram {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class BpeWord {
 public:
  BpeWord(const Tokenizer::Impl& vocab, std::string_view word, std::string& key)
      : vocab_(vocab), word_(word), key_(key) {}

  void run(std::vector<TokenId>& out) {
    if (vocab_.ignore_merges && vocab_.find(word_) >= 0) {
      symbols_.push_back({-1, -1, 0, word_.size()});
    } else {
      split_characters();
    }
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) try_add(i - 1, i);
    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[b.left];
      Symbol& right = symbols_[b.right];
      if (left.length == 0 || right.length == 0) continue;
      if (left.length != b.left_length || right.length != b.right_length) continue;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = b.left;
      try_add(left.prev, b.left);
      try_add(b.left, left.next);
    }
    for (const Symbol& s : symbols_) {
      if (s.length > 0) emit(word_.substr(s.offset, s.length), out);
    }
  }

 private:
  void split_characters() {
    std::size_t offset = 0;
    int index = 0;
    while (offset < word_.size()) {
      const std::size_t len = std::min(utf8_len_from_lead(static_cast<std::uint8_t>(word_[offset])),
                                       word_.size() - offset);
      offset += len;
      symbols_.push_back({index - 1, offset == word_.size() ? -1 : index + 1, offset - len, len});
      ++index;
    }
  }

  void try_add(int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[left];
    const Symbol& r = symbols_[right];
    const std::int32_t rank =
        vocab_.merge_rank(word_.substr(l.offset, l.length), word_.substr(r.offset, r.length), key_);
    if (rank < 0) return;
    queue_.push({left, right, rank, l.length, r.length});
  }

  void emit(std::string_view piece, std::vector<TokenId>& out) const {
    if (const TokenId id = vocab_.find(piece); id >= 0) {
      out.push_back(id);
      return;
    }
    for (char c : piece) {
      if (const TokenId id = vocab_.find(std::string_view(&c, 1)); id >= 0) out.push_back(id);
    }
  }

  const Tokenizer::Impl& vocab_;
  std::string_view word_;
  std::string& key_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, WorseBigram> queue_;
};

}  // namespace

Status bpe_encode(const Tokenizer::Impl& vocab, std::string_view text, std::vector<TokenId>& out) {
  LPU_ASSIGN_OR_RETURN(std::vector<std::string> words, pre_split(vocab.pre_split, text));
  std::string key;
  for (const std::string& word : words) {
    BpeWord(vocab, word, key).run(out);
  }
  return {};
}

}  // namespace lpu::tokenizer
