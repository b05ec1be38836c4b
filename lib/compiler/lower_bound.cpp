#include "lib/compiler/lower_bound.h"

#include <algorithm>
#include <array>

#include "lib/compiler/pieces.h"
#include "lib/compiler/place.h"
#include "lib/isa/timing.h"
#include "lib/isa/tiled_layout.h"

namespace lpu::compiler {
namespace {

std::uint64_t div_up(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

enum Res { kMatrix, kLoad, kVector, kSwitch, kLink, kRes };
constexpr const char* kResName[kRes] = {"matrix", "weight_load", "vector", "switch", "c2c"};

// Work of one op on one chip, in cycles of each resource (matrix and
// load: the busiest plane).
struct Work {
  std::array<std::uint64_t, kRes> cycles{};
  std::uint64_t preload_credit = 0;  // load cycles the buffer can absorb
  std::uint64_t transfer = 0;        // a gather's latency after the op
  /// Cycles the op needs beyond its busiest resource's work: from its
  /// input landing to its output landing, the operand and pipeline
  /// latencies its last instruction cannot hide (latency_floor).
  std::uint64_t latency = 0;
  /// A chain of dependent instructions inside the op (attention), which
  /// bounds it on its own: max(work + latency, chain).
  std::uint64_t chain = 0;
};

// One dependent instruction of a chain: its duration and the latencies
// with which it reads its sources and its result lands.
struct Step {
  std::uint64_t dur, rl, wl;
};

// Input landed at 0: a step issues no earlier than (previous landing - its
// read latency) and lands dur + wl later. Returns the last landing.
std::uint64_t chain_cycles(std::initializer_list<Step> steps) {
  std::int64_t land = 0;
  for (const Step& st : steps) {
    const std::int64_t issue = land - static_cast<std::int64_t>(st.rl);
    land = issue + static_cast<std::int64_t>(st.dur + st.wl);
  }
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, land));
}

struct BoundCtx {
  const graph::Graph& g;
  const ModelInput& m;
  const target::Target& t;
  const Shapes& s;
  const Partition& p;
  bool all_rounds = false;  // partition_estimate: every send round on the chain

  // Latency from the pool placement puts `use` data in first to units of
  // `kind`.
  std::uint64_t lat(std::uint32_t use, target::UnitKind kind) const {
    const int i = nearest_pool(t, use);
    return i < 0 ? 0 : t.pools[static_cast<std::size_t>(i)].latency[static_cast<int>(kind)];
  }
  Step vector_step(std::uint64_t dur) const {
    const std::uint64_t a = lat(target::kUseActivations, target::UnitKind::kVector);
    return {dur, a, t.vector.pipeline_latency + a};
  }
  Step matrix_step(std::uint64_t dur) const {
    const std::uint64_t a = lat(target::kUseActivations, target::UnitKind::kMatrix);
    return {dur, a, t.matrix.pipeline_latency + a};
  }
  // What one instruction adds beyond its duration in a chain of ops.
  static std::uint64_t tail(const Step& st) { return st.wl > st.rl ? st.wl - st.rl : 0; }

  std::uint32_t load_rate() const {
    std::uint32_t bank = 0;
    for (const target::Pool& pl : t.pools) {
      if (pl.uses & target::kUseWeights) bank = std::max(bank, pl.bank_read_bytes_per_cycle);
    }
    return std::min(t.matrix.weight_load_bytes_per_cycle, bank);
  }
  // Weight bytes a plane can load before its op's input lands: its buffer
  // of weight_buffer_tiles blocks, and one more block, since a load only
  // has to land after the last read of the slot it fills.
  std::uint64_t buffer_bytes() const {
    return std::uint64_t{t.matrix.weight_buffer_tiles + 1} *
           isa::tile_block_bytes(t.matrix.tile_n, std::min(t.matrix.tile_k, s.group));
  }
  // A matmul of `passes` x rows over chip t2's columns.
  void matmul(Work& w, std::uint32_t n, std::uint32_t k, std::uint32_t rows, std::uint32_t passes,
              std::uint32_t t2, std::uint32_t tp, std::uint32_t group = 0) const {
    if (group == 0) group = s.group;
    for (std::uint32_t pl = 0; pl < t.matrix.planes; ++pl) {
      const Range cols = plane_columns(n, tp, t2, pl, t.matrix.planes);
      if (cols.size() == 0) continue;
      const std::uint64_t bytes = std::uint64_t{passes} *
          isa::tiled_matrix_bytes(cols.size(), k, t.matrix.tile_n, t.matrix.tile_k, group);
      const std::uint64_t macs = std::uint64_t{passes} * rows * k * cols.size();
      w.cycles[kLoad] = std::max(w.cycles[kLoad], div_up(bytes, load_rate()));
      w.cycles[kMatrix] = std::max(w.cycles[kMatrix], div_up(macs, t.matrix.macs_per_cycle));
    }
    w.preload_credit = div_up(buffer_bytes(), load_rate());
    w.latency = std::max(w.latency, tail(matrix_step(1)));
  }
  // The activations' pool, whose banks stream a vector instruction's
  // largest operand.
  const target::Pool* act_pool() const {
    const int i = nearest_pool(t, target::kUseActivations);
    return i < 0 ? nullptr : &t.pools[static_cast<std::size_t>(i)];
  }
  void vector(Work& w, isa::Opcode op, std::array<std::uint32_t, 7> params,
              std::uint64_t in_bytes = 0, std::uint64_t out_bytes = 0) const {
    isa::Instruction in;
    in.op = op;
    in.p = params;
    std::uint64_t cycles = div_up(isa::vector_ops(in), t.vector.ops_per_cycle());
    if (const target::Pool* a = act_pool()) {
      cycles = std::max({cycles, div_up(in_bytes, a->bank_read_bytes_per_cycle),
                         div_up(out_bytes, a->bank_write_bytes_per_cycle)});
    }
    w.cycles[kVector] += cycles;
    w.latency = std::max(w.latency, tail(vector_step(1)));
  }
  // An all-gather of pieces of piece_bytes (at most), held by the first
  // `senders` chips of the stage (splits give the first chips the pieces).
  void gather(Work& w, std::uint32_t stage, std::uint64_t piece_bytes,
              std::uint32_t senders) const {
    if (p.tp == 1 || piece_bytes == 0 || senders == 0) return;
    const auto serial = static_cast<std::uint64_t>(static_cast<double>(piece_bytes) / t.links.bytes_per_cycle);
    // On the chain: chip 0 of the stage (which holds a piece of every
    // split, so the next matrix op needs it) receives every piece; the
    // farthest sender's arrives after its hops, one piece's serialisation
    // at the least (a sender may send to chip 0 first).
    const std::uint32_t hops =
        isa::hops_between(t.topology, p.first_chip(stage), p.first_chip(stage) + std::min(senders, p.tp) - 1);
    w.transfer = std::uint64_t{std::max(1u, hops)} * t.links.hop_latency_cycles + serial;
    // On the links: each sender sends its piece to tp - 1 peers, those of
    // its node over the node's direct links, the others over its global
    // links, each link one piece at a time.
    const std::uint32_t cpn = t.topology.chips_per_node;
    const std::uint32_t local = std::min(p.tp, cpn) - 1;
    const std::uint32_t remote = p.tp - 1 - local;
    const std::uint64_t rounds = std::max<std::uint64_t>(
        div_up(local, std::max(1u, std::min(t.topology.local_links, t.links.count))),
        div_up(remote, std::max(1u, t.topology.global_links)));
    w.cycles[kLink] += serial * rounds;
    if (all_rounds) w.transfer += serial * (rounds - 1);
  }
  // Chips holding a piece of [0, n) split in multiples of `align`.
  std::uint32_t holders(std::uint32_t n, std::uint32_t align) const {
    return std::min(p.tp, (n + align - 1) / align);
  }
  Work op_work(const graph::Op& op, std::uint32_t stage, std::uint32_t t2) const;
};

Work BoundCtx::op_work(const graph::Op& op, std::uint32_t stage, std::uint32_t t2) const {
  const ModelConfig& c = m.config;
  const std::uint32_t rows = graph::op_rows(g, op);
  const auto d = static_cast<std::uint32_t>(c.n_embd);
  const auto hd = static_cast<std::uint32_t>(c.head_dim);
  const auto k_used = static_cast<std::uint32_t>(std::max(1, c.n_expert_used));
  Work w;
  switch (op.kind) {
    case graph::OpKind::kEmbed: {
      const Range cols = split_range(d, p.tp, t2, m.embd_block);
      w.cycles[kSwitch] = div_up(std::uint64_t{rows} * (cols.size() / m.embd_block) * m.embd_block_bytes,
                                 t.switch_unit.bytes_per_cycle);
      gather(w, stage, std::uint64_t{rows} * split_range(d, p.tp, 0, m.embd_block).size() * 4,
             holders(d, m.embd_block));
      break;
    }
    case graph::OpKind::kMatmul:
      matmul(w, op.n, op.k, rows, 1, t2, p.tp);
      if (op.name != "lm_head") {
        gather(w, stage, std::uint64_t{rows} * split_range(op.n, p.tp, 0, 16).size() * 4, holders(op.n, 16));
      }
      break;
    case graph::OpKind::kExpertUp:
    case graph::OpKind::kExpertDown:
      // The routing the schedule reserves: k experts per row, or every
      // expert over all rows when that loads fewer weights.
      if (s.moe_dense(c, rows)) {
        matmul(w, op.n, op.k, rows, static_cast<std::uint32_t>(c.n_expert), t2, p.tp);
      } else {
        matmul(w, op.n, op.k, 1, rows * k_used, t2, p.tp);
      }
      gather(w, stage, std::uint64_t{rows} * split_range(op.n, p.tp, 0, 16).size() * 4 *
                           (s.moe_dense(c, rows) ? static_cast<std::uint32_t>(c.n_expert) : k_used),
             holders(op.n, 16));
      break;
    case graph::OpKind::kAttention: {
      const Range heads = split_range(static_cast<std::uint32_t>(c.n_head_kv), p.tp, t2, 1);
      const auto hpk = static_cast<std::uint32_t>(c.n_head / c.n_head_kv);
      const std::uint32_t ctx = g.shape.context;
      const std::uint32_t units = rows * heads.size();
      if (s.kv_int8 && units > 0) {
        Work qk, pv;
        matmul(qk, ctx, hd, hpk, units, 0, 1, s.row_group);
        matmul(pv, hd, ctx, hpk, units, 0, 1);
        w.cycles[kLoad] = qk.cycles[kLoad] + pv.cycles[kLoad];
        w.cycles[kMatrix] = qk.cycles[kMatrix] + pv.cycles[kMatrix];
        w.preload_credit = qk.preload_credit;
        w.latency = std::max(qk.latency, pv.latency);
        for (std::uint32_t u = 0; u < units; ++u) {
          vector(w, isa::Opcode::kQuantize, {hpk, hd, 0, 0, 0, 0, 0}, 4ull * hpk * hd);
          vector(w, isa::Opcode::kSoftmax, {hpk, ctx, 0, 0, 0, 0, 0}, 4ull * hpk * ctx, 4ull * hpk * ctx);
          vector(w, isa::Opcode::kQuantize, {hpk, ctx, 0, 0, 0, 0, 0}, 4ull * hpk * ctx,
                 isa::quantized_rows_bytes(hpk, ctx, s.group));
        }
        // One (row, head) is a chain: queries quantised, scores, softmax,
        // probabilities quantised, values; each at least one cycle.
        const std::uint64_t qk_passes = isa::k_segments(hd, t.matrix.tile_k, s.row_group).size();
        const std::uint64_t pv_passes = isa::k_segments(ctx, t.matrix.tile_k, s.group).size();
        w.chain = chain_cycles({vector_step(1), matrix_step(qk_passes), vector_step(1),
                                vector_step(1), matrix_step(pv_passes)});
      } else if (units > 0) {
        for (std::uint32_t u = 0; u < units; ++u) vector(w, isa::Opcode::kAttentionF16, {hpk, 0, ctx, hd, 0, 0, 0});
      }
      gather(w, stage, std::uint64_t{rows} * split_range(static_cast<std::uint32_t>(c.n_head_kv), p.tp, 0, 1).size() * hpk * hd * 4,
             holders(static_cast<std::uint32_t>(c.n_head_kv), 1));
      break;
    }
    case graph::OpKind::kRmsNorm:
      vector(w, isa::Opcode::kRmsNorm, {rows, d, 0, 0, 0, 0, 0}, 4ull * rows * d, 4ull * rows * d);
      break;
    case graph::OpKind::kQuantize: {
      const graph::Tensor& src = g.tensor(op.inputs[0]);
      const std::uint32_t qrows = rows * (src.cols / op.k);
      vector(w, isa::Opcode::kQuantize, {qrows, op.k, 0, 0, 0, 0, 0}, 4ull * qrows * op.k,
             isa::quantized_rows_bytes(qrows, op.k, s.group));
      break;
    }
    case graph::OpKind::kRope:
      vector(w, isa::Opcode::kRope, {rows, static_cast<std::uint32_t>(c.n_head + c.n_head_kv), hd,
                                     static_cast<std::uint32_t>(c.rope_dim), 0, 0, 0});
      break;
    case graph::OpKind::kKvAppend: {
      const Range heads = split_range(static_cast<std::uint32_t>(c.n_head_kv), p.tp, t2, 1);
      for (std::uint32_t i = 0; i < 2 * rows * heads.size(); ++i) vector(w, isa::Opcode::kKvAppend, {1, 0, hd, 0, 0, 0, 0});
      break;
    }
    case graph::OpKind::kAdd:
      vector(w, isa::Opcode::kAdd, {rows * d, 0, 0, 0, 0, 0, 0}, 4ull * rows * d, 4ull * rows * d);
      break;
    case graph::OpKind::kSiluMul: {
      const graph::Tensor& o = g.tensor(op.outputs[0]);
      const std::uint32_t srows = rows * (o.cols / op.n);
      vector(w, isa::Opcode::kSiluMul, {srows, op.n, 0, 0, 0, 0, 0}, 8ull * srows * op.n, 4ull * srows * op.n);
      break;
    }
    case graph::OpKind::kRouter:
      vector(w, isa::Opcode::kRouterTopK, {rows, static_cast<std::uint32_t>(c.n_expert), k_used, d, 0, 0, 0});
      break;
    case graph::OpKind::kCombine:
      for (std::uint32_t j = 0; j < k_used * rows; ++j) vector(w, isa::Opcode::kCombine, {1, d, 0, 0, 0, 0, 0});
      break;
    case graph::OpKind::kRopeAngles:
      vector(w, isa::Opcode::kRopeAngles, {rows, static_cast<std::uint32_t>(c.rope_dim), 0, 0, 0, 0, 0});
      break;
  }
  return w;
}

std::uint32_t stage_of(const Partition& p, const graph::Op& op, std::uint32_t layers) {
  return p.stage_of_item[op_item(op, layers)];
}

}  // namespace

namespace {
Bound bound_of(const BoundCtx& x, std::vector<OpBound>* per_op);
}  // namespace

Bound lower_bound(const graph::Graph& g, const ModelInput& m, const target::Target& t,
                  const Shapes& s, const Partition& p, std::vector<OpBound>* per_op) {
  return bound_of(BoundCtx{g, m, t, s, p, false}, per_op);
}

std::uint64_t partition_estimate(const graph::Graph& g, const ModelInput& m,
                                 const target::Target& t, const Shapes& s, const Partition& p) {
  return bound_of(BoundCtx{g, m, t, s, p, true}, nullptr).cycles();
}

namespace {

Bound bound_of(const BoundCtx& x, std::vector<OpBound>* per_op) {
  const graph::Graph& g = x.g;
  const ModelInput& m = x.m;
  const target::Target& t = x.t;
  const Partition& p = x.p;
  const auto layers = static_cast<std::uint32_t>(m.config.n_layer);
  std::vector<std::array<std::uint64_t, kRes>> per_chip(p.chips);
  std::array<std::uint64_t, kRes> total{};
  Bound b;
  std::uint32_t current = UINT32_MAX;
  if (per_op) per_op->assign(g.ops.size(), OpBound{});
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const graph::Op& op = g.ops[i];
    const std::uint32_t stage = stage_of(p, op, layers);
    std::uint64_t best = 0;
    int best_res = kVector;
    std::uint64_t transfer = 0;
    for (std::uint32_t t2 = 0; t2 < p.tp; ++t2) {
      Work w = x.op_work(op, stage, t2);
      std::array<std::uint64_t, kRes> c = w.cycles;
      for (int r = 0; r < kRes; ++r) {
        per_chip[p.first_chip(stage) + t2][r] += c[r];
        total[r] += c[r];
      }
      c[kLoad] = c[kLoad] > w.preload_credit ? c[kLoad] - w.preload_credit : 0;
      c[kLink] = 0;
      // The MoE router reads the normalised rows, not their quantised
      // copy: it may follow the quantisation without waiting for its
      // result, so the quantisation adds only its work to the chain.
      if (op.kind == graph::OpKind::kQuantize && i + 1 < g.ops.size() &&
          g.ops[i + 1].kind == graph::OpKind::kRouter) {
        w.latency = 0;
      }
      for (int r = 0; r < kRes; ++r) {
        if (c[r] + w.latency > best) { best = c[r] + w.latency; best_res = r; }
      }
      if (w.chain > best) { best = w.chain; best_res = kRes; }
      transfer = std::max(transfer, w.transfer);
    }
    if (op.kind == graph::OpKind::kRopeAngles) continue;  // off the chain: needs positions only
    if (current != UINT32_MAX && stage != current) {
      const std::uint32_t hops = isa::hops_between(t.topology, p.first_chip(current), p.first_chip(stage));
      b.critical_path += std::uint64_t{hops} * t.links.hop_latency_cycles +
          static_cast<std::uint64_t>(g.shape.rows * 4.0 * m.config.n_embd / t.links.bytes_per_cycle);
    }
    current = stage;
    b.critical_path += best + transfer;
    if (per_op) {
      (*per_op)[i] = {best + transfer, transfer > best       ? "c2c"
                                       : best_res == kRes ? "latency"
                                                          : kResName[best_res]};
    }
  }
  for (std::uint32_t c = 0; c < p.chips; ++c) {
    for (int r = 0; r < kRes; ++r) {
      if (per_chip[c][r] > b.busiest_resource) {
        b.busiest_resource = per_chip[c][r];
        b.busiest_name = std::string(kResName[r]) + " of chip " + std::to_string(c);
      }
    }
  }
  for (int r = 0; r < kRes; ++r) {
    if (r == kLink) continue;
    b.partition_free = std::max(b.partition_free, div_up(total[r], p.chips));
  }
  return b;
}

}  // namespace

}  // namespace lpu::compiler
