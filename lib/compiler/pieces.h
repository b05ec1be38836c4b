#pragma once
// How a (possibly fused) matmul's output columns map onto its source
// tensors' rows, and how a chip's columns split over matrix planes: the
// one rule placement and lowering share.

#include <cstdint>
#include <functional>
#include <string>

#include "lib/compiler/partition.h"
#include "lib/graph/graph.h"

namespace lpu::compiler {

/// The partition item an op belongs to: 0 the token embedding, 1 + l
/// layer l, n_layer + 1 the head (output norm and lm_head); rope_angles
/// counts as the head's but runs on every layer stage.
inline std::uint32_t op_item(const graph::Op& op, std::uint32_t layers) {
  if (op.layer >= 0) return static_cast<std::uint32_t>(op.layer) + 1;
  return op.kind == graph::OpKind::kEmbed ? 0 : layers + 1;
}

/// Rows of each source tensor of `op`, in concatenation order.
std::vector<std::uint32_t> piece_rows(const graph::Op& op, const ModelConfig& c);

/// Columns [c0, c1) of the fused output that chip t of tp computes on
/// plane `plane` (of `planes`).
Range plane_columns(std::uint32_t n, std::uint32_t tp, std::uint32_t t, std::uint32_t plane,
                    std::uint32_t planes);

/// Calls fn(tensor index, source rows [r0, r1), fused column of r0) for
/// each source tensor overlapping the fused columns `cols`, in order.
void for_each_piece(const graph::Op& op, const ModelConfig& c, Range cols,
                    const std::function<void(std::size_t, Range, std::uint32_t)>& fn);

}  // namespace lpu::compiler
