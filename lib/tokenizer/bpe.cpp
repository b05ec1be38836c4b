// Byte-level BPE encoding by ranked merges, as llama.cpp's BPE tokenizer
// does it.
//
// Each pre-tokenized word starts as one symbol per character of the
// byte-level alphabet. Adjacent pairs listed in the merges are queued by
// rank; the lowest rank merges first (the leftmost on ties) and the merged
// symbol's new pairs are queued. A queued pair is stale when either side
// changed since it was queued. Final symbols that are not tokens are emitted
// byte by byte, keeping only the single-byte strings that are tokens.
#include <optional>

#include "lib/tokenizer/encoders.h"
#include "lib/tokenizer/pre_split.h"
#include "lib/tokenizer/symbol_list.h"

namespace lpu::tokenizer {
namespace {

struct Bigram {
  int left;
  int right;
  std::int32_t rank;
  std::size_t left_length;  // the sides' lengths when queued
  std::size_t right_length;

  bool current(const Symbol& l, const Symbol& r) const {
    return l.length == left_length && r.length == right_length;
  }
};

struct WorseBigram {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class BpeWord {
 public:
  BpeWord(const Tokenizer::Impl& vocab, std::string_view word, std::string& key)
      : vocab_(vocab),
        key_(key),
        symbols_(vocab.ignore_merges && vocab.find(word) >= 0 ? SymbolList::whole(word)
                                                              : SymbolList::characters(word)) {}

  void run(std::vector<TokenId>& out) {
    merge_best_first<Bigram, WorseBigram>(
        symbols_, [this](int left, int right) { return pair(left, right); });
    for (const Symbol& s : symbols_.symbols()) {
      if (s.length > 0) emit(symbols_.piece(s), out);
    }
  }

 private:
  std::optional<Bigram> pair(int left, int right) const {
    const Symbol& l = symbols_[left];
    const Symbol& r = symbols_[right];
    const std::int32_t rank = vocab_.merge_rank(symbols_.piece(l), symbols_.piece(r), key_);
    if (rank < 0) return std::nullopt;
    return Bigram{left, right, rank, l.length, r.length};
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
  std::string& key_;
  SymbolList symbols_;
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
