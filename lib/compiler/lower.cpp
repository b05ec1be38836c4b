#include "lib/compiler/lower.h"

#include <algorithm>

#include "lib/compiler/lowering.h"

namespace lpu::compiler {

void Lowering::vector_op(std::uint32_t chip, Opcode code, const std::string& in_buf,
                         const std::string& in2_key, const std::string& out_buf,
                         std::array<std::uint32_t, 7> params, bool in_place_reads_out,
                         std::uint64_t in_bytes, std::uint64_t out_bytes, std::uint64_t in_offset) {
  const int a = entry(chip, buffer_key(in_buf));
  const int o = entry(chip, buffer_key(out_buf));
  Instruction in = instr(code, isa::opcode_unit(code));
  in.src[0] = operand(a, in_offset, in_bytes);
  in.dst = operand(o, 0, out_bytes);
  in.p = params;
  const auto ra = static_cast<std::uint64_t>(a);
  const auto ro = static_cast<std::uint64_t>(o);
  if (!in2_key.empty()) {
    const int b = entry(chip, in2_key);
    in.src[1] = operand(b, 0, in_place_reads_out ? out_bytes : 0);
    sched.add(chip, in, {{ra, -1}, {static_cast<std::uint64_t>(b), -1}, {in_place_reads_out ? ro : ra, -1}},
              {{ro, -1}});
  } else {
    sched.add(chip, in, {{ra, -1}, {in_place_reads_out ? ro : ra, -1}}, {{ro, -1}});
  }
}

// x moves from the chips of one stage to the same-numbered chips of the next.
void Lowering::stage_enter(std::uint32_t from, std::uint32_t to) {
  const auto d = static_cast<std::uint32_t>(c().n_embd);
  for (std::uint32_t a = 0; a < p.tp; ++a) {
    send("x", p.first_chip(from) + a, p.first_chip(to) + a, rows(), 0, 0, d, d, -1, -1);
  }
}

Status Lowering::lower_op(const graph::Op& op, std::uint32_t stage) {
  const ModelConfig& mc = c();
  const auto d = static_cast<std::uint32_t>(mc.n_embd);
  const std::uint32_t n = graph::op_rows(g, op);
  // A head op on the last row only reads the step's last row of x.
  const std::uint32_t in_row = n == rows() ? 0 : rows() - 1;
  const auto k_used = static_cast<std::uint32_t>(std::max(1, mc.n_expert_used));
  const std::string out_buf = op.outputs.empty() ? "" : g.tensor(op.outputs[0]).buffer;
  const std::string in_buf = op.inputs.empty() ? "" : g.tensor(op.inputs[0]).buffer;
  for (std::uint32_t t2 = 0; t2 < p.tp; ++t2) {
    const std::uint32_t chip = p.first_chip(stage) + t2;
    switch (op.kind) {
      case graph::OpKind::kEmbed: {
        const Range cols = split_range(d, p.tp, t2, m.embd_block);
        if (cols.size() == 0) break;
        const int tok = entry(chip, buffer_key("tokens"));
        const int tab = entry(chip, "e:token_embd.weight");
        const int x = entry(chip, buffer_key("x"));
        Instruction in = instr(Opcode::kEmbed, Unit::kSwitch);
        in.src[0] = operand(tok);
        in.src[1] = operand(tab);
        in.dst = operand(x);
        in.p = {n, cols.size(), m.embd_type,
                static_cast<std::uint32_t>(cols.size() / m.embd_block * m.embd_block_bytes), cols.begin, d, 0};
        sched.add(chip, in, {{static_cast<std::uint64_t>(tok), -1}, {static_cast<std::uint64_t>(tab), -1}},
                  {{static_cast<std::uint64_t>(x), (1ll << 40) + t2}});
        break;
      }
      case graph::OpKind::kRopeAngles:
        vector_op(chip, Opcode::kRopeAngles, "positions", "", "angles",
                  {n, static_cast<std::uint32_t>(mc.rope_dim), 0, 0, 0, 0, 0}, false, 4ull * n,
                  4ull * n * static_cast<std::uint32_t>(mc.rope_dim));
        break;
      case graph::OpKind::kRmsNorm:
        vector_op(chip, Opcode::kRmsNorm, in_buf, "n:" + op.weights[0], out_buf, {n, d, 0, 0, 0, 0, 0},
                  false, 4ull * n * d, 4ull * n * d, 4ull * in_row * d);
        break;
      case graph::OpKind::kQuantize: {
        if (out_buf == "esq") {
          moe_op(chip, t2, op);
          break;
        }
        const graph::Tensor& src = g.tensor(op.inputs[0]);
        const std::uint32_t qrows = n * (src.cols / op.k);
        vector_op(chip, Opcode::kQuantize, in_buf, "", out_buf, {qrows, op.k, op.k, s.group, 0, 0, 0},
                  false, 4ull * qrows * op.k, isa::quantized_rows_bytes(qrows, op.k, s.group));
        break;
      }
      case graph::OpKind::kMatmul:
        matmul(chip, t2, op, in_buf, 0, n, out_buf, 0, op.n, UINT32_MAX, 0);
        break;
      case graph::OpKind::kRope: {
        const auto heads = static_cast<std::uint32_t>(mc.n_head + mc.n_head_kv);
        const auto width = static_cast<std::uint32_t>((mc.n_head + 2 * mc.n_head_kv) * mc.head_dim);
        vector_op(chip, Opcode::kRope, "angles", buffer_key("qkv"), "qkv",
                  {n, heads, static_cast<std::uint32_t>(mc.head_dim),
                   static_cast<std::uint32_t>(mc.rope_dim), width, 0, 0}, true,
                  4ull * n * static_cast<std::uint32_t>(mc.rope_dim), 4ull * n * width);
        break;
      }
      case graph::OpKind::kKvAppend: {
        const Range heads = split_range(static_cast<std::uint32_t>(mc.n_head_kv), p.tp, t2, 1);
        const int qkv = entry(chip, buffer_key("qkv"));
        const int pos = entry(chip, buffer_key("positions"));
        const auto width = static_cast<std::uint32_t>((mc.n_head + 2 * mc.n_head_kv) * mc.head_dim);
        for (std::uint32_t r = 0; r < n; ++r) {
          const std::uint32_t slot = g.shape.prefill ? 0 : r;
          for (std::uint32_t h = heads.begin; h < heads.end; ++h) {
            for (std::uint32_t part = 0; part < 2; ++part) {
              const int kv = entry(chip, kv_key(slot, static_cast<std::uint32_t>(op.layer), h, part ? "v" : "k"));
              Instruction in = instr(Opcode::kKvAppend, Unit::kVector);
              in.src[0] = operand(qkv);
              in.src[1] = operand(pos);
              in.dst = operand(kv);
              if (part == 1 && s.kv_int8) {
                const program::LayoutEntry& vs = place.entry(entry(chip, kv_key(slot, static_cast<std::uint32_t>(op.layer), h, "vs")));
                in.dst.bytes = static_cast<std::uint32_t>(vs.offset + vs.bytes - in.dst.offset);
              }
              in.dst.index_reg = g.shape.prefill ? kPrefillSlotRegister : 0;
              in.p = {1, h, static_cast<std::uint32_t>(mc.head_dim), part, r, width, s.context};
              // The value part writes the values and their scales (two entries).
              const int vs = part == 1 && s.kv_int8
                                 ? entry(chip, kv_key(slot, static_cast<std::uint32_t>(op.layer), h, "vs"))
                                 : kv;
              sched.add(chip, in, {{static_cast<std::uint64_t>(qkv), -1}, {static_cast<std::uint64_t>(pos), -1}},
                        {{static_cast<std::uint64_t>(kv), -1}, {static_cast<std::uint64_t>(vs), -1}});
            }
          }
        }
        break;
      }
      case graph::OpKind::kAttention:
        attention(chip, t2, op);
        break;
      case graph::OpKind::kAdd:
        vector_op(chip, Opcode::kAdd, "y", buffer_key("x"), "x", {n * d, 0, 0, 0, 0, 0, 0}, true,
                  4ull * n * d, 4ull * n * d);
        break;
      case graph::OpKind::kSiluMul: {
        if (out_buf == "es") {
          moe_op(chip, t2, op);
          break;
        }
        const graph::Tensor& o = g.tensor(op.outputs[0]);
        const std::uint32_t sub_rows = o.cols / op.n;  // ranks of MoE rows
        vector_op(chip, Opcode::kSiluMul, in_buf, "", out_buf, {n * sub_rows, op.n, 2 * op.n, 0, 0, 0, 0},
                  false, tensor_bytes(op.inputs[0]), tensor_bytes(op.outputs[0]));
        break;
      }
      case graph::OpKind::kRouter: {
        vector_op(chip, Opcode::kRouterTopK, "h", "n:" + op.weights[0], "route",
                  {n, static_cast<std::uint32_t>(mc.n_expert), k_used, d, 0, 0, 0}, false,
                  4ull * n * d, 8ull * n * k_used);
        const int route = entry(chip, buffer_key("route"));
        Instruction sel = instr(Opcode::kSelectExperts, Unit::kVector);
        sel.src[0] = operand(route);
        // Expert registers per (row, rank, plane) from register 2, then
        // (dense steps) the combine's (row, rank) registers.
        sel.p = {2, n * k_used * t.matrix.planes, k_used, t.matrix.planes,
                 combine_register(0, 0, k_used, s.max_rows, t.matrix.planes),
                 s.moe_dense(mc, n) ? n * k_used : 0, s.max_rows};
        sched.add(chip, sel, {{static_cast<std::uint64_t>(route), -1}}, {{register_region(chip, 0), -1}});
        break;
      }
      case graph::OpKind::kExpertUp:
      case graph::OpKind::kExpertDown:
      case graph::OpKind::kCombine:
        moe_op(chip, t2, op);
        break;
    }
  }
  // Gather what was split by columns.
  switch (op.kind) {
    case graph::OpKind::kEmbed:
      all_gather(stage, "x", d, n, column_pieces(d, m.embd_block), 0, -3);
      break;
    case graph::OpKind::kMatmul:
      if (op.name != "lm_head") all_gather(stage, out_buf, op.n, n, column_pieces(op.n));
      break;
    case graph::OpKind::kAttention: {
      std::vector<Range> pieces;
      const auto w = static_cast<std::uint32_t>(mc.n_head / mc.n_head_kv * mc.head_dim);
      for (std::uint32_t a = 0; a < p.tp; ++a) {
        const Range h = split_range(static_cast<std::uint32_t>(mc.n_head_kv), p.tp, a, 1);
        pieces.push_back({h.begin * w, h.end * w});
      }
      all_gather(stage, "attn", static_cast<std::uint32_t>(mc.n_head * mc.head_dim), n, pieces);
      break;
    }
    case graph::OpKind::kExpertUp:
    case graph::OpKind::kExpertDown: {
      // Each block's rows are contiguous; blocks are max_rows rows apart.
      const std::uint32_t blocks = s.moe_dense(mc, n) ? static_cast<std::uint32_t>(mc.n_expert) : k_used;
      const std::vector<Range> pieces = column_pieces(op.n);
      for (std::uint32_t b = 0; b < blocks; ++b) all_gather(stage, out_buf, op.n, n, pieces, b * s.max_rows);
      break;
    }
    default:
      break;
  }
  return {};
}

Status lower_variant(const graph::Graph& g, const ModelInput& m, const target::Target& t,
                     const Shapes& s, const Partition& p, const Placement& place,
                     Scheduler& sched) {
  Lowering lw{g, m, t, s, p, place, sched, 0, {}, 0, {}};
  lw.next_slot.assign(std::size_t{p.chips} * t.matrix.planes, 0);
  lw.pending.resize(t.matrix.planes);
  // One barrier at the start aligns every chip's counter.
  for (std::uint32_t c = 0; c < p.chips; ++c) sched.add(c, lw.instr(Opcode::kBarrier, Unit::kSync), {}, {});
  std::uint32_t current = UINT32_MAX;  // stage holding x
  const graph::Op* angles = nullptr;
  std::vector<bool> angled(p.stages, false);
  for (std::uint32_t i = 0; i < g.ops.size(); ++i) {
    const graph::Op& op = g.ops[i];
    lw.op_id = i;
    if (op.kind == graph::OpKind::kRopeAngles) {
      angles = &op;
      continue;  // computed on each layer stage as it is entered
    }
    const std::uint32_t stage = lw.stage_of(op);
    if (current != UINT32_MAX && stage != current) lw.stage_enter(current, stage);
    if (op.layer >= 0 && angles != nullptr && !angled[stage]) {
      angled[stage] = true;
      const std::uint32_t saved = lw.op_id;
      lw.op_id = static_cast<std::uint32_t>(angles - g.ops.data());
      LPU_TRY(lw.lower_op(*angles, stage), angles->name);
      lw.op_id = saved;
    }
    current = stage;
    LPU_TRY(lw.lower_op(op, stage), op.name);
    if (sched.overflow()) {
      return resource_exhausted("more than " + std::to_string(Scheduler::kMaxInstructions) +
                                " instructions in one step variant (at op " + op.name +
                                "): fewer slots, a smaller --ctx or a smaller prefill chunk");
    }
  }
  return {};
}

}  // namespace lpu::compiler
