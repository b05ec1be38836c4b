// Attention of a step: per (row, KV head) unit on the chip holding the
// head's cache; int8 as matrix passes over key and value tiles in waves of
// scratch sets, fp16 as one vector instruction per unit.
#include "lib/compiler/lowering.h"

#include <algorithm>

namespace lpu::compiler {

// Attention of every row over the cache of this chip's KV heads: per
// (row, head), quantise the head group's queries, QK^T as matrix passes
// over key tiles, softmax (scaled, masked, times the value scales),
// quantise the probabilities, PV as matrix passes over value tiles.
void Lowering::attention(std::uint32_t chip, std::uint32_t t2, const graph::Op& op) {
  const ModelConfig& mc = c();
  const Range heads = split_range(static_cast<std::uint32_t>(mc.n_head_kv), p.tp, t2, 1);
  const auto hd = static_cast<std::uint32_t>(mc.head_dim);
  const auto hpk = static_cast<std::uint32_t>(mc.n_head / mc.n_head_kv);
  const auto q_dim = static_cast<std::uint32_t>(mc.n_head) * hd;
  const std::uint32_t width = q_dim + 2u * static_cast<std::uint32_t>(mc.n_head_kv) * hd;
  const std::uint32_t ctx = g.shape.context;
  const auto layer = static_cast<std::uint32_t>(op.layer);
  const int qkv = entry(chip, buffer_key("qkv"));
  const int out = entry(chip, buffer_key("attn"));
  const int pos = entry(chip, buffer_key("positions"));
  const std::uint16_t reg = g.shape.prefill ? kPrefillSlotRegister : 0;
  std::vector<AttnUnit> units;
  for (std::uint32_t r = 0; r < rows(); ++r) {
    const std::uint32_t slot = g.shape.prefill ? 0 : r;
    for (std::uint32_t h = heads.begin; h < heads.end; ++h) {
      const int kk = entry(chip, kv_key(slot, layer, h, "k"));
      const int vv = entry(chip, kv_key(slot, layer, h, "v"));
      const std::uint64_t out_off = (std::uint64_t{r} * q_dim + h * hpk * hd) * 4;
      if (!s.kv_int8) {
        Instruction in = instr(Opcode::kAttentionF16, Unit::kVector);
        in.src[0] = operand(qkv, (std::uint64_t{r} * width + h * hpk * hd) * 4, hpk * hd * 4ull);
        // Keys then values, adjacent (place_kv lays each head's k, v in
        // turn): one operand; the row's position bounds the positions read.
        const program::LayoutEntry& ke = place.entry(kk);
        const program::LayoutEntry& ve = place.entry(vv);
        in.src[1] = operand(kk, 0, ve.offset + ve.bytes - ke.offset);
        in.src[1].index_reg = reg;
        in.src[2] = operand(pos);
        in.dst = operand(out, out_off, hpk * hd * 4ull);
        in.p = {hpk, 0, ctx, hd, r, h, static_cast<std::uint32_t>(ve.offset - ke.offset)};
        sched.add(chip, in, {{static_cast<std::uint64_t>(qkv), -1}, {static_cast<std::uint64_t>(kk), -1},
                             {static_cast<std::uint64_t>(vv), -1}, {static_cast<std::uint64_t>(pos), -1}},
                  {{static_cast<std::uint64_t>(out), static_cast<std::int64_t>(out_off / 4 / 16)}});
        continue;
      }
      units.push_back({r, h, kk, vv, entry(chip, kv_key(slot, layer, h, "vs")), out_off});
    }
  }
  // Units run in waves of attention_sets, stage by stage, so one unit's
  // vector work overlaps another's matrix passes.
  for (std::size_t w0 = 0; w0 < units.size(); w0 += s.attention_sets) {
    const std::size_t w1 = std::min<std::size_t>(units.size(), w0 + s.attention_sets);
    for (int stage = 0; stage < 5; ++stage) {
      for (std::size_t u = w0; u < w1; ++u) attention_stage(chip, units[u], u - w0, stage);
    }
  }
}

// One stage of one (row, head) unit of int8 attention, with scratch set `set`.
void Lowering::attention_stage(std::uint32_t chip, const AttnUnit& u, std::size_t set, int stage) {
  const ModelConfig& mc = c();
  const auto hd = static_cast<std::uint32_t>(mc.head_dim);
  const auto hpk = static_cast<std::uint32_t>(mc.n_head / mc.n_head_kv);
  const auto q_dim = static_cast<std::uint32_t>(mc.n_head) * hd;
  const std::uint32_t width = q_dim + 2u * static_cast<std::uint32_t>(mc.n_head_kv) * hd;
  const std::uint32_t ctx = attention_width();
  const std::uint16_t reg = g.shape.prefill ? kPrefillSlotRegister : 0;
  const int qkv = entry(chip, buffer_key("qkv"));
  const int out = entry(chip, buffer_key("attn"));
  const int pos = entry(chip, buffer_key("positions"));
  const std::string id = std::to_string(set);
  const int qq = entry(chip, buffer_key("att.qq" + id));
  const int sc = entry(chip, buffer_key("att.sc" + id));
  const int pq = entry(chip, buffer_key("att.pq" + id));
  const std::uint64_t sc_bytes = 4ull * hpk * ctx;
  const std::uint64_t pq_bytes = isa::quantized_rows_bytes(hpk, ctx, s.group);
  switch (stage) {
    case 0: {  // the head group's queries -> int8 at the key rows' group
      Instruction qi = instr(Opcode::kQuantize, Unit::kVector);
      qi.src[0] = operand(qkv, (std::uint64_t{u.row} * width + u.head * hpk * hd) * 4, hpk * hd * 4ull);
      qi.dst = operand(qq);
      qi.p = {hpk, hd, hd, s.row_group, 0, 0, 0};
      sched.add(chip, qi, {{static_cast<std::uint64_t>(qkv), -1}}, {{static_cast<std::uint64_t>(qq), -1}});
      break;
    }
    case 1: {  // scores: the keys are the "weights", one row per position
      const Operand qx = operand(qq);
      for (std::uint32_t pl = 0; pl < t.matrix.planes; ++pl) {
        const Range part = split_range(ctx, t.matrix.planes, pl, t.matrix.tile_n);
        if (part.size() == 0) continue;
        const std::uint64_t base = part.begin == 0 ? 0
            : isa::tiled_matrix_bytes(part.begin, hd, t.matrix.tile_n, t.matrix.tile_k, s.row_group);
        tile_pass(chip, pl, u.k, base, reg, part.size(), hd, hd, s.row_group, qx,
                  static_cast<std::uint64_t>(qq), hpk, part.begin, ctx, sc, 0);
      }
      flush_tiles(chip);
      break;
    }
    case 2: {  // scale, mask past the position, softmax, times the value scales
      Instruction sm = instr(Opcode::kSoftmax, Unit::kVector);
      sm.src[0] = operand(sc, 0, sc_bytes);
      sm.src[1] = operand(u.vs, 0, 4ull * ctx);
      sm.src[1].index_reg = reg;
      sm.src[2] = operand(pos);
      sm.dst = operand(sc, 0, sc_bytes);
      sm.p = {hpk, ctx, u.row, hd, 0, 0, 0};
      sched.add(chip, sm, {{static_cast<std::uint64_t>(sc), -1}, {static_cast<std::uint64_t>(u.vs), -1},
                           {static_cast<std::uint64_t>(pos), -1}},
                {{static_cast<std::uint64_t>(sc), -1}});
      break;
    }
    case 3: {  // probabilities -> int8 at G
      Instruction pi = instr(Opcode::kQuantize, Unit::kVector);
      pi.src[0] = operand(sc, 0, sc_bytes);
      pi.dst = operand(pq, 0, pq_bytes);
      pi.p = {hpk, ctx, ctx, s.group, 0, 0, 0};
      sched.add(chip, pi, {{static_cast<std::uint64_t>(sc), -1}}, {{static_cast<std::uint64_t>(pq), -1}});
      break;
    }
    default: {  // values: one row per head dimension, K along the positions
      const Operand px = operand(pq, 0, pq_bytes);
      // A head narrower than a tile is one pass sequence: the units of a
      // wave take different planes.
      const std::uint32_t first_plane = hd <= t.matrix.tile_n ? static_cast<std::uint32_t>(set % t.matrix.planes) : 0;
      for (std::uint32_t i = 0; i < t.matrix.planes; ++i) {
        const std::uint32_t pl = (first_plane + i) % t.matrix.planes;
        const Range part = split_range(hd, t.matrix.planes, i, t.matrix.tile_n);
        if (part.size() == 0) continue;
        const std::uint64_t base = part.begin == 0 ? 0
            : isa::tiled_matrix_bytes(part.begin, s.context, t.matrix.tile_n, t.matrix.tile_k, s.group);
        tile_pass(chip, pl, u.v, base, reg, part.size(), s.context, ctx, s.group, px,
                  static_cast<std::uint64_t>(pq), hpk, part.begin, hd, out, u.out_off);
      }
      flush_tiles(chip);
      break;
    }
  }
}

}  // namespace lpu::compiler
