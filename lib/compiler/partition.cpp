#include "lib/compiler/partition.h"

#include <algorithm>
#include <sstream>
#include <string>

#include "lib/isa/tiled_layout.h"

namespace lpu::compiler {
namespace {

std::uint64_t tiled(const target::Target& t, std::uint32_t n, std::uint32_t k, std::uint32_t g) {
  if (n == 0 || k == 0) return 0;
  return isa::tiled_matrix_bytes(n, k, t.matrix.tile_n, t.matrix.tile_k, g);
}

// The widest chip's bytes of a column-split matrix [n][k].
std::uint64_t split_matrix(const target::Target& t, std::uint32_t n, std::uint32_t k,
                           std::uint32_t g, std::uint32_t tp) {
  return tiled(t, split_range(n, tp, 0, 16).size(), k, g);
}

std::uint64_t layer_weights(const ModelInput& m, const target::Target& t, const Shapes& s,
                            std::uint32_t tp) {
  const ModelConfig& c = m.config;
  const auto d = static_cast<std::uint32_t>(c.n_embd);
  const auto q = static_cast<std::uint32_t>(c.n_head * c.head_dim);
  const auto kv = static_cast<std::uint32_t>(c.n_head_kv * c.head_dim);
  const auto ff = static_cast<std::uint32_t>(c.n_ff);
  std::uint64_t b = 2ull * d * 4;  // the two norms, on every chip of the stage
  b += split_matrix(t, q + 2 * kv, d, s.group, tp) + split_matrix(t, d, q, s.group, tp);
  const std::uint64_t ffn = split_matrix(t, 2 * ff, d, s.group, tp) + split_matrix(t, d, ff, s.group, tp);
  if (c.is_moe()) {
    b += std::uint64_t{static_cast<std::uint32_t>(c.n_expert)} * d * 4;  // router, fp32
    b += ffn * static_cast<std::uint32_t>(c.n_expert);
  } else {
    b += ffn;
  }
  return b;
}

}  // namespace

Range split_range(std::uint32_t n, std::uint32_t tp, std::uint32_t t, std::uint32_t align) {
  const std::uint32_t units = (n + align - 1) / align;
  const std::uint32_t base = units / tp;
  const std::uint32_t extra = units % tp;
  const std::uint32_t u0 = t * base + std::min(t, extra);
  const std::uint32_t u1 = u0 + base + (t < extra ? 1 : 0);
  return {std::min(n, u0 * align), std::min(n, u1 * align)};
}

std::uint64_t kv_head_bytes(const ModelInput& m, const target::Target& t, const Shapes& s,
                            std::uint32_t context) {
  const auto hd = static_cast<std::uint32_t>(m.config.head_dim);
  if (!s.kv_int8) return 2ull * context * hd * 2;
  return tiled(t, context, hd, s.row_group) + tiled(t, hd, context, s.group) + 4ull * context;
}

ItemBytes item_bytes(const ModelInput& m, const target::Target& t, const Shapes& s,
                     std::uint32_t item, std::uint32_t tp) {
  const ModelConfig& c = m.config;
  const auto d = static_cast<std::uint32_t>(c.n_embd);
  ItemBytes b;
  if (item == 0) {
    const Range r = split_range(d, tp, 0, m.embd_block);
    b.weights = std::uint64_t{static_cast<std::uint32_t>(c.n_vocab)} * (r.size() / m.embd_block) *
                m.embd_block_bytes;
    return b;
  }
  if (item == static_cast<std::uint32_t>(c.n_layer) + 1) {
    b.weights = 4ull * d + split_matrix(t, static_cast<std::uint32_t>(c.n_vocab), d, s.group, tp);
    return b;
  }
  b.weights = layer_weights(m, t, s, tp);
  const Range heads = split_range(static_cast<std::uint32_t>(c.n_head_kv), tp, 0, 1);
  b.kv = std::uint64_t{s.slots} * heads.size() * kv_head_bytes(m, t, s, s.context);
  return b;
}

std::uint64_t activation_bytes(const ModelInput& m, const target::Target& t, const Shapes& s) {
  const ModelConfig& c = m.config;
  const std::uint64_t rows = s.max_rows;
  const auto d = static_cast<std::uint32_t>(c.n_embd);
  const auto q = static_cast<std::uint32_t>(c.n_head * c.head_dim);
  const auto qkv = q + 2u * static_cast<std::uint32_t>(c.n_head_kv * c.head_dim);
  const std::uint32_t k = c.is_moe() ? static_cast<std::uint32_t>(c.n_expert_used) : 1;
  const auto ff = static_cast<std::uint32_t>(c.n_ff) * k;
  const auto v = static_cast<std::uint32_t>(c.n_vocab);
  const std::uint32_t g = s.group;
  std::uint64_t b = rows * 8;  // token ids and positions
  b += rows * 4 * (3ull * d + qkv + q + static_cast<std::uint32_t>(c.rope_dim) + v);
  b += isa::quantized_rows_bytes(static_cast<std::uint32_t>(rows), d, g) +
       isa::quantized_rows_bytes(static_cast<std::uint32_t>(rows), q, g);
  if (!c.is_moe()) {  // the dense FFN's gate/up, SiLU and its quantised rows
    b += rows * 4 * 3ull * ff + isa::quantized_rows_bytes(static_cast<std::uint32_t>(rows), ff, g);
  }
  if (c.is_moe()) {
    // route, and the blocks of gate/up, SiLU (fp32 and quantised) and outputs
    const auto per = static_cast<std::uint32_t>(c.n_ff);
    b += rows * 4 * 2ull * k +
         std::uint64_t{s.moe_blocks} * (rows * 4 * (3ull * per + d) +
                                        isa::quantized_rows_bytes(static_cast<std::uint32_t>(rows), per, g));
  }
  (void)t;
  // Attention scratch: attention_sets sets of (quantised queries, scores,
  // quantised probabilities) for one (row, head) each (lower.cpp).
  const auto hpk = static_cast<std::uint32_t>(c.n_head / c.n_head_kv);
  const std::uint32_t unit_rows = hpk;
  b += std::uint64_t{s.attention_sets} * (isa::quantized_rows_bytes(unit_rows, static_cast<std::uint32_t>(c.head_dim), s.row_group) +
            4ull * unit_rows * s.context + isa::quantized_rows_bytes(unit_rows, s.context, g));
  return b;
}

bool chip_fits(const target::Target& t, std::uint64_t weights, std::uint64_t kv,
               std::uint64_t activations, double fill) {
  std::vector<std::uint64_t> left;
  for (const target::Pool& p : t.pools) {
    left.push_back(static_cast<std::uint64_t>(static_cast<double>(p.capacity_bytes) * fill));
  }
  // Fill the kinds with the fewest pools first, so shared pools go last.
  const std::pair<std::uint32_t, std::uint64_t> need[] = {
      {target::kUseActivations, activations}, {target::kUseKv, kv}, {target::kUseWeights, weights}};
  for (const auto& [use, bytes] : need) {
    std::uint64_t rest = bytes;
    for (std::size_t i = 0; i < t.pools.size() && rest > 0; ++i) {
      if ((t.pools[i].uses & use) == 0) continue;
      const std::uint64_t take = std::min(rest, left[i]);
      left[i] -= take;
      rest -= take;
    }
    if (rest > 0) return false;
  }
  return true;
}

std::vector<Partition> partition_candidates(const ModelInput& m, const target::Target& t,
                                            const Shapes& s, std::uint32_t chips, double fill) {
  const auto layers = static_cast<std::uint32_t>(m.config.n_layer);
  const std::uint32_t items = layers + 2;
  const std::uint64_t act = activation_bytes(m, t, s);
  const std::uint64_t max_chips = t.topology.max_chips();
  // Splits are cut at 16 columns; wider stages than a matrix has pieces
  // leave some chips without a share of it, which can still pay for MoE
  // layers and wide FFNs.
  const auto max_tp = static_cast<std::uint32_t>(std::min<std::uint64_t>(max_chips, 64));
  std::vector<Partition> out;
  for (std::uint32_t tp = 1; tp <= max_tp; ++tp) {
    Partition p;
    p.tp = tp;
    p.stage_of_item.assign(items, 0);
    std::uint32_t stage = 0;
    ItemBytes used;
    bool ok = true;
    for (std::uint32_t i = 0; i < items && ok; ++i) {
      const ItemBytes b = item_bytes(m, t, s, i, tp);
      if (!chip_fits(t, used.weights + b.weights, used.kv + b.kv, act, fill)) {
        if (!chip_fits(t, b.weights, b.kv, act, fill)) ok = false;
        ++stage;
        used = ItemBytes{};
      }
      used.weights += b.weights;
      used.kv += b.kv;
      p.stage_of_item[i] = stage;
    }
    if (!ok) continue;
    p.stages = stage + 1;
    const std::uint32_t cpn = t.topology.chips_per_node;
    if (tp < cpn && cpn % tp == 0) {
      p.per_node = cpn / tp;
      p.node_chips = cpn;
    }
    p.chips_used = p.span(p.stages);
    if (p.chips_used > max_chips || (chips != 0 && p.chips_used > chips)) continue;
    p.chips = chips == 0 ? p.chips_used : chips;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace lpu::compiler
