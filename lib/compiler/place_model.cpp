// place_model: the whole model's layout for a partition (see place.h).
#include <algorithm>
#include <map>

#include "lib/compiler/pieces.h"
#include "lib/compiler/place.h"
#include "lib/graph/graph.h"
#include "lib/isa/tiled_layout.h"

namespace lpu::compiler {
namespace {

using program::DataKind;
using program::Encoding;
using program::LayoutEntry;

struct Ctx {
  const ModelInput& m;
  const target::Target& t;
  const Shapes& s;
  const Partition& p;
  Placement& out;
};

LayoutEntry entry(std::string name, std::uint32_t chip, Encoding enc, DataKind kind,
                  std::uint64_t bytes) {
  LayoutEntry e;
  e.name = std::move(name);
  e.chip = chip;
  e.encoding = enc;
  e.kind = kind;
  e.bytes = bytes;
  return e;
}

LayoutEntry tiled_entry(const Ctx& x, const std::string& tensor, std::uint32_t chip, Range rows,
                        std::uint32_t k, std::uint32_t expert) {
  LayoutEntry e = entry(tensor, chip, Encoding::kTiledS8, DataKind::kWeights,
                        isa::tiled_matrix_bytes(rows.size(), k, x.t.matrix.tile_n,
                                                x.t.matrix.tile_k, x.s.group));
  e.n0 = rows.begin;
  e.n1 = rows.end;
  e.k = k;
  e.expert = expert;
  e.tile_n = x.t.matrix.tile_n;
  e.seg = x.t.matrix.tile_k;
  e.group = x.s.group;
  return e;
}

Status place_matmul(const Ctx& x, const graph::Op& op, std::uint32_t chip, std::uint32_t t) {
  const std::uint32_t planes = x.t.matrix.planes;
  for (std::uint32_t pl = 0; pl < planes; ++pl) {
    const Range cols = plane_columns(op.n, x.p.tp, t, pl, planes);
    Status st;
    for_each_piece(op, x.m.config, cols, [&](std::size_t i, Range rows, std::uint32_t) {
      if (!st.ok()) return;
      st = x.out.place(tiled_entry(x, op.weights[i], chip, rows, op.k, 0), target::kUseWeights,
                       static_cast<int>(pl), weight_key(op.weights[i], pl));
    });
    LPU_TRY(st, op.name);
  }
  return {};
}

// One contiguous block per (chip, layer, plane): expert e's gate, up and
// down slices at base + e * stride, so an index register holding e
// addresses any expert with one stride.
Status place_experts(const Ctx& x, const graph::Op& up, const graph::Op& down, std::uint32_t chip,
                     std::uint32_t t) {
  const auto ne = static_cast<std::uint32_t>(x.m.config.n_expert);
  for (std::uint32_t pl = 0; pl < x.t.matrix.planes; ++pl) {
    std::vector<std::pair<const graph::Op*, std::pair<std::size_t, Range>>> parts;
    for (const graph::Op* op : {&up, &down}) {
      for_each_piece(*op, x.m.config, plane_columns(op->n, x.p.tp, t, pl, x.t.matrix.planes),
                     [&](std::size_t i, Range rows, std::uint32_t) {
                       parts.push_back({op, {i, rows}});
                     });
    }
    std::uint64_t stride = 0;
    std::vector<LayoutEntry> proto;
    for (const auto& [op, pr] : parts) {
      LayoutEntry e = tiled_entry(x, op->weights[pr.first], chip, pr.second, op->k, 0);
      e.offset = stride;  // relative, for now
      stride += (e.bytes + 63) / 64 * 64;
      proto.push_back(std::move(e));
    }
    if (stride == 0) continue;
    std::uint8_t pool = 0;
    std::uint64_t base = 0;
    LPU_TRY(x.out.reserve(chip, stride * ne, target::kUseWeights, static_cast<int>(pl), pool, base,
                          up.name + " experts"),
            up.name);
    for (std::uint32_t e = 0; e < ne; ++e) {
      for (const LayoutEntry& pe : proto) {
        LayoutEntry en = pe;
        en.pool = pool;
        en.offset = base + e * stride + pe.offset;
        en.expert = e;
        const std::string key = weight_key(pe.name, pl) + (e == 0 ? "" : ":" + std::to_string(e));
        x.out.add_at(std::move(en), key);
      }
    }
    x.out.set_value(chip, expert_block_key(up.name, pl), stride);
  }
  return {};
}

// Norm weights and the router are read by the vector unit every step, as
// activations are: they go to the activations' tier when it has room (the
// decode-state pool of hmp-217 is meant for them), else with the weights.
Status place_f32(const Ctx& x, const std::string& tensor, std::uint32_t chip, std::uint64_t count) {
  LayoutEntry e = entry(tensor, chip, Encoding::kF32, DataKind::kWeights, count * 4);
  e.k = static_cast<std::uint32_t>(count);
  if (x.out.place(e, target::kUseActivations, -1, "n:" + tensor).ok()) return {};
  return x.out.place(std::move(e), target::kUseWeights, -1, "n:" + tensor);
}

Status place_embedding(const Ctx& x, std::uint32_t chip, std::uint32_t t) {
  const ModelInput& m = x.m;
  const Range cols = split_range(static_cast<std::uint32_t>(m.config.n_embd), x.p.tp, t, m.embd_block);
  if (cols.size() == 0) return {};
  LayoutEntry e = entry("token_embd.weight", chip, Encoding::kGgufRows, DataKind::kWeights,
                        std::uint64_t{static_cast<std::uint32_t>(m.config.n_vocab)} *
                            (cols.size() / m.embd_block) * m.embd_block_bytes);
  e.n0 = cols.begin;
  e.n1 = cols.end;
  e.k = static_cast<std::uint32_t>(m.config.n_vocab);
  return x.out.place(std::move(e), target::kUseWeights, -1, "e:token_embd.weight");
}

// Every slot's cache of this chip's layers and heads, slot-major so that
// one stride (the prefill slot register's) steps from slot to slot.
Status place_kv(const Ctx& x, std::uint32_t chip, std::uint32_t t, std::uint32_t stage) {
  const ModelConfig& c = x.m.config;
  const Range heads = split_range(static_cast<std::uint32_t>(c.n_head_kv), x.p.tp, t, 1);
  const auto hd = static_cast<std::uint32_t>(c.head_dim);
  const std::uint32_t ctx = x.s.context;
  struct Part { std::uint32_t layer, head; const char* what; std::uint64_t bytes; };
  std::vector<Part> parts;
  for (std::uint32_t l = 0; l < static_cast<std::uint32_t>(c.n_layer); ++l) {
    if (x.p.stage_of_item[l + 1] != stage) continue;
    for (std::uint32_t h = heads.begin; h < heads.end; ++h) {
      if (x.s.kv_int8) {
        const auto& tl = x.t.matrix;
        parts.push_back({l, h, "k", isa::tiled_matrix_bytes(ctx, hd, tl.tile_n, tl.tile_k, x.s.row_group)});
        parts.push_back({l, h, "v", isa::tiled_matrix_bytes(hd, ctx, tl.tile_n, tl.tile_k, x.s.group)});
        parts.push_back({l, h, "vs", 4ull * ctx});
      } else {
        parts.push_back({l, h, "k", 2ull * ctx * hd});
        parts.push_back({l, h, "v", 2ull * ctx * hd});
      }
    }
  }
  if (parts.empty()) return {};
  std::uint64_t per_slot = 0;
  for (const Part& pt : parts) per_slot += (pt.bytes + 63) / 64 * 64;
  std::uint8_t pool = 0;
  std::uint64_t base = 0;
  LPU_TRY(x.out.reserve(chip, per_slot * x.s.slots, target::kUseKv, -1, pool, base, "KV cache"),
          "KV cache");
  for (std::uint32_t slot = 0; slot < x.s.slots; ++slot) {
    std::uint64_t off = base + slot * per_slot;
    for (const Part& pt : parts) {
      const bool values = x.s.kv_int8 && std::string(pt.what) == "v";
      LayoutEntry e = entry("kv.s" + std::to_string(slot) + ".blk." + std::to_string(pt.layer) +
                                ".h" + std::to_string(pt.head) + "." + pt.what,
                            chip, values ? Encoding::kZeroUnitScales : Encoding::kZero,
                            DataKind::kKv, pt.bytes);
      if (values) {  // [head_dim][positions] at G, as the value passes read it
        e.n0 = 0;
        e.n1 = hd;
        e.k = ctx;
        e.tile_n = x.t.matrix.tile_n;
        e.seg = x.t.matrix.tile_k;
        e.group = x.s.group;
      }
      e.pool = pool;
      e.offset = off;
      off += (pt.bytes + 63) / 64 * 64;
      x.out.add_at(std::move(e), kv_key(slot, pt.layer, pt.head, pt.what));
    }
  }
  x.out.set_value(chip, "kv_slot_stride", per_slot);
  return {};
}

Status place_buffers(const Ctx& x, const graph::Graph& g, std::uint32_t chip, bool embed_stage,
                     bool layer_stage, bool head_stage);

}  // namespace

Result<Placement> place_model(const ModelInput& m, const target::Target& t, const Shapes& s,
                              const Partition& p) {
  Placement out(t, p.chips);
  const Ctx x{m, t, s, p, out};
  LPU_ASSIGN_OR_RETURN(graph::Graph g, graph::build_step_graph(m.config, {s.max_rows, s.context, false}));
  const auto layers = static_cast<std::uint32_t>(m.config.n_layer);
  for (std::uint32_t stage = 0; stage < p.stages; ++stage) {
    for (std::uint32_t t2 = 0; t2 < p.tp; ++t2) {
      const std::uint32_t chip = p.first_chip(stage) + t2;
      bool embed = p.stage_of_item[0] == stage;
      bool head = p.stage_of_item[layers + 1] == stage;
      bool any_layer = false;
      for (std::uint32_t l = 0; l < layers; ++l) any_layer |= p.stage_of_item[l + 1] == stage;
      LPU_TRY(place_buffers(x, g, chip, embed, any_layer, head), "step buffers");
      if (any_layer) LPU_TRY(place_kv(x, chip, t2, stage), "chip " + std::to_string(chip));
      for (std::size_t i = 0; i < g.ops.size(); ++i) {
        const graph::Op& op = g.ops[i];
        if (op.kind == graph::OpKind::kRopeAngles || p.stage_of_item[op_item(op, layers)] != stage) {
          continue;
        }
        switch (op.kind) {
          case graph::OpKind::kEmbed:
            LPU_TRY(place_embedding(x, chip, t2), "token_embd");
            break;
          case graph::OpKind::kRmsNorm:
            LPU_TRY(place_f32(x, op.weights[0], chip, static_cast<std::uint64_t>(m.config.n_embd)), op.name);
            break;
          case graph::OpKind::kRouter:
            LPU_TRY(place_f32(x, op.weights[0], chip,
                              std::uint64_t{static_cast<std::uint32_t>(m.config.n_embd)} *
                                  static_cast<std::uint32_t>(m.config.n_expert)),
                    op.name);
            break;
          case graph::OpKind::kMatmul:
            LPU_TRY(place_matmul(x, op, chip, t2), "chip " + std::to_string(chip));
            break;
          case graph::OpKind::kExpertUp:
            LPU_TRY(place_experts(x, op, g.ops[i + 3], chip, t2), "chip " + std::to_string(chip));
            break;
          default:
            break;
        }
      }
    }
  }
  return out;
}

}  // namespace lpu::compiler

namespace lpu::compiler {
namespace {

// The step buffers a chip uses, each sized for the most rows of any
// variant; every layer's tensor of one role shares its buffer.
Status place_buffers(const Ctx& x, const graph::Graph& g, std::uint32_t chip, bool embed_stage,
                     bool layer_stage, bool head_stage) {
  std::map<std::string, std::uint64_t> sizes;  // ordered: placement order is fixed
  for (const graph::Tensor& tn : g.tensors) {
    if (tn.kind == graph::TensorKind::kWeight || tn.kind == graph::TensorKind::kKv) continue;
    const bool in_layer = tn.name.rfind("blk.", 0) == 0;
    bool wanted = tn.buffer == "x";
    if (tn.buffer == "tokens") wanted = embed_stage;
    if (tn.buffer == "logits") wanted = head_stage;
    if (tn.buffer == "positions" || tn.buffer == "angles") wanted = layer_stage;
    if (in_layer) wanted = layer_stage;
    if (!in_layer && (tn.buffer == "h" || tn.buffer == "hq")) wanted = wanted || head_stage;
    if (!wanted) continue;
    std::uint64_t bytes = tn.quantized ? isa::quantized_rows_bytes(tn.rows, tn.cols, x.s.group)
                                       : std::uint64_t{tn.rows} * tn.cols * 4;
    if (tn.buffer == "egu" || tn.buffer == "es" || tn.buffer == "esq" || tn.buffer == "ey") {
      // Blocks of max_rows rows (see Shapes::moe_blocks).
      const std::uint32_t width = tn.cols / static_cast<std::uint32_t>(x.m.config.n_expert_used);
      const std::uint32_t rows = x.s.moe_blocks * x.s.max_rows;
      bytes = tn.quantized ? isa::quantized_rows_bytes(rows, width, x.s.group) : 4ull * rows * width;
    }
    sizes[tn.buffer] = std::max(sizes[tn.buffer], bytes);
  }
  if (layer_stage && x.s.kv_int8) {
    const ModelConfig& c = x.m.config;
    const auto hpk = static_cast<std::uint32_t>(c.n_head / c.n_head_kv);
    const auto hd = static_cast<std::uint32_t>(c.head_dim);
    for (std::uint32_t set = 0; set < x.s.attention_sets; ++set) {
      const std::string i = std::to_string(set);
      sizes["att.qq" + i] = isa::quantized_rows_bytes(hpk, hd, x.s.row_group);
      sizes["att.sc" + i] = 4ull * hpk * x.s.context;
      sizes["att.pq" + i] = isa::quantized_rows_bytes(hpk, x.s.context, x.s.group);
    }
  }
  for (const auto& [name, bytes] : sizes) {
    LayoutEntry e = entry("act." + name, chip, Encoding::kZero, DataKind::kActivations, bytes);
    LPU_TRY(x.out.place(std::move(e), target::kUseActivations, -1, buffer_key(name)),
            "chip " + std::to_string(chip));
  }
  return {};
}

}  // namespace
}  // namespace lpu::compiler
