#pragma once
// Partition: which chips hold which part of the model. Layers are
// pipelined over stages of `tp` chips each; within a stage every weight
// matrix is split by output columns (never along K) over its tp chips,
// attention by KV heads, and each chip holds all its columns of every
// expert. Items are packed into stages in order: the token embedding,
// each layer, then the output norm and lm_head.

#include <cstdint>
#include <string>
#include <vector>

#include "include/lpu/status.h"
#include "lib/compiler/compiler.h"

namespace lpu::compiler {

/// [begin, end) of a split.
struct Range {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t size() const { return end - begin; }
};

/// Piece t of tp of [0, n), cut at multiples of `align` (the last piece
/// takes the remainder); some pieces may be empty when n / align < tp.
Range split_range(std::uint32_t n, std::uint32_t tp, std::uint32_t t, std::uint32_t align);

/// The sizes every stage reasons with.
struct Shapes {
  std::uint32_t group = 0;
  std::uint32_t row_group = 0;  ///< a key row's group: head_dim rounded up to 32
  bool kv_int8 = true;
  std::uint32_t context = 0;    ///< largest bucket
  std::uint32_t slots = 1;
  std::uint32_t max_rows = 1;   ///< most token rows of any variant
  std::uint32_t prefill_chunk = 1;
  /// Prefill steps write every row's logits (graph::StepShape::last_row_logits).
  bool all_logits = false;
  /// Scratch sets of int8 attention: (row, KV head) units run in waves of
  /// this many, each with its own quantised queries, scores and
  /// quantised probabilities (lower.cpp).
  std::uint32_t attention_sets = 4;
  /// MoE step buffers (gate/up, SiLU, quantised, expert outputs) hold
  /// moe_blocks blocks of max_rows rows: block j is rank j's rows when
  /// each row runs its k chosen experts through index registers, block e
  /// expert e's rows when every expert runs over every row (a step of
  /// rows x k >= n_expert: fewer weight loads, the combine then picks
  /// each rank's block through a register).
  std::uint32_t moe_blocks = 0;

  /// False when the dense form's buffers would not fit.
  bool moe_dense_ok = true;

  /// True when a step of `rows` rows runs every expert over every row.
  bool moe_dense(const ModelConfig& c, std::uint32_t rows) const {
    return moe_dense_ok && c.is_moe() &&
           std::uint64_t{rows} * static_cast<std::uint32_t>(c.n_expert_used) >=
               static_cast<std::uint32_t>(c.n_expert);
  }
};

/// Bytes of one (slot, layer, KV head) cache at `context` positions.
std::uint64_t kv_head_bytes(const ModelInput& m, const target::Target& t, const Shapes& s,
                            std::uint32_t context);

/// Per-chip bytes of one item at tensor-parallel width tp (the largest
/// chip's share), by kind.
struct ItemBytes {
  std::uint64_t weights = 0;
  std::uint64_t kv = 0;
};
ItemBytes item_bytes(const ModelInput& m, const target::Target& t, const Shapes& s,
                     std::uint32_t item, std::uint32_t tp);

/// Activation bytes every chip holds (the step buffers and scratch).
std::uint64_t activation_bytes(const ModelInput& m, const target::Target& t, const Shapes& s);

/// True when a chip can hold weights, kv and activations of these sizes
/// in the pools that allow each kind.
bool chip_fits(const target::Target& t, std::uint64_t weights, std::uint64_t kv,
               std::uint64_t activations, double fill = 1.0);

struct Partition {
  std::uint32_t tp = 1;
  std::uint32_t stages = 1;
  std::uint32_t chips = 1;       ///< chips of the system
  std::uint32_t chips_used = 1;  ///< stages x tp
  /// stage of each item: [0] embedding, [1 + l] layer l, [L + 1] the head.
  std::vector<std::uint32_t> stage_of_item;

  /// Stages start on node boundaries where they can: `per_node` stages of
  /// a node when tp divides chips_per_node (a stage's all-gathers then
  /// stay on the node's direct links), else one after another.
  std::uint32_t per_node = 0;
  std::uint32_t node_chips = 0;

  std::uint32_t items() const { return static_cast<std::uint32_t>(stage_of_item.size()); }
  std::uint32_t first_chip(std::uint32_t stage) const {
    if (per_node == 0) return stage * tp;
    return stage / per_node * node_chips + stage % per_node * tp;
  }
  /// Chips from the first to past the last one used.
  std::uint32_t span(std::uint32_t stage_count) const {
    return stage_count == 0 ? 0 : first_chip(stage_count - 1) + tp;
  }
};

/// Every feasible (tp, stages) with at most `chips` chips used (any
/// number when chips == 0), tp ascending; `fill` is the share of each
/// pool the packing may plan for (placement loses some to alignment and
/// to keeping planes' weights apart, and is retried with less).
std::vector<Partition> partition_candidates(const ModelInput& m, const target::Target& t,
                                            const Shapes& s, std::uint32_t chips, double fill);

}  // namespace lpu::compiler
