#pragma once
// SymbolList: the text being encoded as a linked list of adjacent symbols
// (byte ranges) that merge pairwise, and the best-first merge loop that the
// SPM and BPE encoders share. The encoders differ only in which pairs may
// merge, how pairs are ranked and how a stale queue entry is recognised;
// those come in through the pair type.

#include <cstddef>
#include <optional>
#include <queue>
#include <string_view>
#include <vector>

namespace lpu::tokenizer {

struct Symbol {
  int prev;  // -1 for the first symbol
  int next;  // -1 for the last symbol
  std::size_t offset;
  std::size_t length;  // 0 once merged into its left neighbour
};

class SymbolList {
 public:
  /// One symbol per UTF-8 character, lengths judged from the lead byte.
  static SymbolList characters(std::string_view text);
  /// The whole text as one symbol.
  static SymbolList whole(std::string_view text);

  std::string_view text() const { return text_; }
  int size() const { return static_cast<int>(symbols_.size()); }
  const Symbol& operator[](int i) const { return symbols_[static_cast<std::size_t>(i)]; }
  /// In text order; merged-away symbols stay, with length 0.
  const std::vector<Symbol>& symbols() const { return symbols_; }
  std::string_view piece(const Symbol& s) const { return text_.substr(s.offset, s.length); }

  /// Appends `left`'s right neighbour to it and unlinks the neighbour.
  void merge_with_next(int left);

 private:
  explicit SymbolList(std::string_view text) : text_(text) {}

  std::string_view text_;
  std::vector<Symbol> symbols_;
};

/// Merges adjacent pairs best first until no mergeable pair is left.
/// `pair_of(left, right)` returns the queue entry for two adjacent symbols,
/// or nullopt when they do not merge. `Pair` has `int left, right` and
/// `bool current(const Symbol& left, const Symbol& right) const`, false once
/// an earlier merge changed either side; `Worse` orders the queue as
/// std::priority_queue expects (the best pair on top).
template <typename Pair, typename Worse, typename PairOf>
void merge_best_first(SymbolList& symbols, PairOf pair_of) {
  std::priority_queue<Pair, std::vector<Pair>, Worse> queue;
  auto enqueue = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    if (std::optional<Pair> p = pair_of(left, right)) queue.push(*p);
  };
  for (int i = 1; i < symbols.size(); ++i) enqueue(i - 1, i);
  while (!queue.empty()) {
    const Pair p = queue.top();
    queue.pop();
    const Symbol& left = symbols[p.left];
    const Symbol& right = symbols[p.right];
    if (left.length == 0 || right.length == 0 || !p.current(left, right)) continue;
    symbols.merge_with_next(p.left);
    enqueue(symbols[p.left].prev, p.left);
    enqueue(p.left, symbols[p.left].next);
  }
}

}  // namespace lpu::tokenizer
