#include "lib/compiler/pieces.h"

#include <algorithm>

namespace lpu::compiler {

std::vector<std::uint32_t> piece_rows(const graph::Op& op, const ModelConfig& c) {
  const auto kv = static_cast<std::uint32_t>(c.n_head_kv * c.head_dim);
  const auto ff = static_cast<std::uint32_t>(c.n_ff);
  if (op.weights.size() == 3) return {static_cast<std::uint32_t>(c.n_head * c.head_dim), kv, kv};
  if (op.weights.size() == 2) return {ff, ff};
  return {op.n};
}

Range plane_columns(std::uint32_t n, std::uint32_t tp, std::uint32_t t, std::uint32_t plane,
                    std::uint32_t planes) {
  const Range chip = split_range(n, tp, t, 16);
  const Range sub = split_range(chip.size(), planes, plane, 16);
  return {chip.begin + sub.begin, chip.begin + sub.end};
}

void for_each_piece(const graph::Op& op, const ModelConfig& c, Range cols,
                    const std::function<void(std::size_t, Range, std::uint32_t)>& fn) {
  const std::vector<std::uint32_t> rows = piece_rows(op, c);
  std::uint32_t base = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::uint32_t lo = std::max(cols.begin, base);
    const std::uint32_t hi = std::min(cols.end, base + rows[i]);
    if (lo < hi) fn(i, Range{lo - base, hi - base}, lo);
    base += rows[i];
  }
}

}  // namespace lpu::compiler
