// Matrix passes (weight load + pass per column tile and K segment, emitted
// plane by plane in turn) and the MoE ops built on them.
#include "lib/compiler/lowering.h"

#include <algorithm>

namespace lpu::compiler {

// Queues a weight load and a matrix pass per (column tile, K segment) of
// rows [0, entry_rows) of a tiled entry whose blocks were laid out for
// K = layout_k; the passes cover K [0, k). flush_tiles emits them.
void Lowering::tile_pass(std::uint32_t, std::uint32_t plane, int w_entry, std::uint64_t w_base,
                         std::uint16_t reg, std::uint32_t entry_rows, std::uint32_t layout_k,
                         std::uint32_t k, std::uint32_t group, const Operand& x,
                         std::uint64_t x_region, std::uint32_t nrows, std::uint32_t out_col,
                         std::uint32_t out_width, int out_entry, std::uint64_t out_off) {
  const std::uint32_t tile_n = t.matrix.tile_n;
  auto segs = std::make_shared<const std::vector<isa::Segment>>(isa::k_segments(k, t.matrix.tile_k, group));
  std::uint64_t full_tile = 0;
  for (const isa::Segment& sg : isa::k_segments(layout_k, t.matrix.tile_k, group)) {
    full_tile += isa::tile_block_bytes(tile_n, sg.k1 - sg.k0);
  }
  const program::LayoutEntry& out_le = place.entry(out_entry);
  for (std::uint32_t j = 0; j * tile_n < entry_rows; ++j) {
    TileJob job;
    job.plane = plane;
    job.w_entry = w_entry;
    job.block_off = w_base + j * full_tile;
    job.reg = reg;
    job.cols = std::min(tile_n, entry_rows - j * tile_n);
    job.k = k;
    job.x = x;
    job.x_region = x_region;
    job.nrows = nrows;
    job.out_width = out_width;
    const std::uint32_t col = out_col + j * tile_n;
    job.dst.pool = out_le.pool;
    job.dst.offset = out_le.offset + out_off + col * 4ull;
    job.dst.bytes = static_cast<std::uint32_t>((std::uint64_t{nrows} - 1) * out_width * 4 + job.cols * 4ull);
    job.out_ref = {static_cast<std::uint64_t>(out_entry), static_cast<std::int64_t>(out_off / 4 + col) / 16};
    job.segs = segs;
    pending[plane].push_back(std::move(job));
  }
}

// Emits the queued passes one K segment at a time, plane by plane in turn,
// so that the planes' streams advance together (a resource's
// reservations only grow, so emission order is priority). A tile's
// segments stay in order on its plane: the plane accumulates across them.
void Lowering::flush_tiles(std::uint32_t chip) {
  bool any = true;
  while (any) {
    any = false;
    for (auto& q : pending) {
      if (q.empty()) continue;
      any = true;
      TileJob& job = q.front();
      emit_segment(chip, job);
      if (job.seg == job.segs->size()) q.pop_front();
    }
  }
}

void Lowering::emit_segment(std::uint32_t chip, TileJob& job) {
  const isa::Segment& sg = (*job.segs)[job.seg];
  const std::uint32_t len = sg.k1 - sg.k0;
  const std::uint64_t bytes = isa::tile_block_bytes(job.cols, len);
  std::uint32_t& slot_ctr = next_slot[chip * t.matrix.planes + job.plane];
  const std::uint32_t slot = slot_ctr++ % t.matrix.weight_buffer_tiles;
  const std::uint64_t slot_ref = slot_region(chip, job.plane, slot);
  Instruction lw = instr(Opcode::kLoadWeights, Unit::kWeightLoad, job.plane);
  lw.src[0] = operand(job.w_entry, job.block_off, bytes);
  lw.src[0].index_reg = job.reg;
  lw.p = {slot, len, job.cols, 0, 0, 0, 0};
  const auto w = static_cast<std::uint64_t>(job.w_entry);
  if (job.reg != 0) {
    sched.add(chip, lw, {{w, -1}, {register_region(chip, 0), -1}}, {{slot_ref, -1}});
  } else {
    sched.add(chip, lw, {{w, -1}}, {{slot_ref, -1}});
  }
  Instruction mm = instr(Opcode::kMatmul, Unit::kMatrix, job.plane);
  mm.src[0] = job.x;
  const bool first = job.seg == 0;
  const bool last = job.seg + 1 == job.segs->size();
  mm.flags = static_cast<std::uint8_t>((sg.group_begin ? isa::kGroupBegin : 0) |
                                       (sg.group_end ? isa::kGroupEnd : 0) |
                                       (first ? isa::kAccInit : 0) | (last ? isa::kStore : 0));
  mm.p = {job.nrows, slot, len, job.cols, sg.k0, job.k, job.out_width};
  if (last) {
    mm.dst = job.dst;
    sched.add(chip, mm, {{job.x_region, -1}, {slot_ref, -1}}, {job.out_ref});
  } else {
    sched.add(chip, mm, {{job.x_region, -1}, {slot_ref, -1}}, {});
  }
  job.block_off += bytes;
  ++job.seg;
}

// The chip's columns of `op` for `nrows` rows of `in_buf` starting at
// in_row, into rows out_row.. of `out_buf`. expert_row >= 0 selects the
// expert through the (row, rank) registers.
void Lowering::matmul(std::uint32_t chip, std::uint32_t t2, const graph::Op& op,
                      const std::string& in_buf, std::uint32_t in_row, std::uint32_t nrows,
                      const std::string& out_buf, std::uint32_t out_row, std::uint32_t out_width,
                      std::uint32_t expert_row, std::uint32_t rank, std::uint32_t expert) {
  const int x_entry = entry(chip, buffer_key(in_buf));
  const std::uint64_t row_bytes = isa::quantized_row_bytes(op.k, s.group);
  Operand x = operand(x_entry, in_row * row_bytes, nrows * row_bytes);
  const int out_entry = entry(chip, buffer_key(out_buf));
  const bool moe = expert_row != UINT32_MAX;
  const auto k_used = static_cast<std::uint32_t>(std::max(1, c().n_expert_used));
  for (std::uint32_t pl = 0; pl < t.matrix.planes; ++pl) {
    const Range cols = plane_columns(op.n, p.tp, t2, pl, t.matrix.planes);
    for_each_piece(op, c(), cols, [&](std::size_t i, Range rows_r, std::uint32_t fused_col) {
      const int w = entry(chip, weight_key(op.weights[i], pl) +
                                    (expert == 0 ? "" : ":" + std::to_string(expert)));
      const std::uint16_t reg =
          moe ? expert_register(expert_row, rank, pl, k_used, t.matrix.planes) : 0;
      tile_pass(chip, pl, w, 0, reg, rows_r.size(), op.k, op.k, s.group, x,
                static_cast<std::uint64_t>(x_entry), nrows, fused_col, out_width, out_entry,
                std::uint64_t{out_row} * out_width * 4);
    });
  }
  flush_tiles(chip);
}

// The MoE ops over the blocks of Shapes::moe_blocks. Indexed (a step of
// few rows): row r's rank-j expert runs on row r alone, its weights found
// through the (row, rank, plane) registers, into block j. Dense (rows x k
// >= n_expert): expert e runs over all rows into block e, and the
// combine finds rank j's block through the (row, rank) register.
void Lowering::moe_op(std::uint32_t chip, std::uint32_t t2, const graph::Op& op) {
  const ModelConfig& mc = c();
  const std::uint32_t n = rows();
  const auto d = static_cast<std::uint32_t>(mc.n_embd);
  const auto ff = static_cast<std::uint32_t>(mc.n_ff);
  const auto k = static_cast<std::uint32_t>(mc.n_expert_used);
  const auto ne = static_cast<std::uint32_t>(mc.n_expert);
  const bool dense = s.moe_dense(mc, n);
  const std::uint32_t blocks = dense ? ne : k;
  const std::uint32_t mr = s.max_rows;
  switch (op.kind) {
    case graph::OpKind::kExpertUp:
      if (dense) {
        for (std::uint32_t e = 0; e < ne; ++e) matmul(chip, t2, op, "hq", 0, n, "egu", e * mr, op.n, UINT32_MAX, 0, e);
      } else {
        for (std::uint32_t r = 0; r < n; ++r) {
          for (std::uint32_t j = 0; j < k; ++j) matmul(chip, t2, op, "hq", r, 1, "egu", j * mr + r, op.n, r, j);
        }
      }
      break;
    case graph::OpKind::kExpertDown:
      if (dense) {
        for (std::uint32_t e = 0; e < ne; ++e) {
          matmul(chip, t2, op, "esq", e * mr, n, "ey", e * mr, op.n, UINT32_MAX, 0, e);
        }
      } else {
        for (std::uint32_t r = 0; r < n; ++r) {
          for (std::uint32_t j = 0; j < k; ++j) {
            matmul(chip, t2, op, "esq", j * mr + r, 1, "ey", j * mr + r, op.n, r, j);
          }
        }
      }
      break;
    case graph::OpKind::kSiluMul:
    case graph::OpKind::kQuantize: {
      const bool silu = op.kind == graph::OpKind::kSiluMul;
      const int in = entry(chip, buffer_key(silu ? "egu" : "es"));
      const int out = entry(chip, buffer_key(silu ? "es" : "esq"));
      const std::uint64_t in_row = silu ? 8ull * ff : 4ull * ff;
      const std::uint64_t out_row = silu ? 4ull * ff : isa::quantized_row_bytes(ff, s.group);
      for (std::uint32_t b = 0; b < blocks; ++b) {
        Instruction in_ = instr(silu ? Opcode::kSiluMul : Opcode::kQuantize, Unit::kVector);
        in_.src[0] = operand(in, b * mr * in_row, n * in_row);
        in_.dst = operand(out, b * mr * out_row, n * out_row);
        in_.p = silu ? std::array<std::uint32_t, 7>{n, ff, 2 * ff, 0, 0, 0, 0}
                     : std::array<std::uint32_t, 7>{n, ff, ff, s.group, 0, 0, 0};
        sched.add(chip, in_, {{static_cast<std::uint64_t>(in), -1}}, {{static_cast<std::uint64_t>(out), -1}});
      }
      break;
    }
    default: {  // combine: y = sum_j w_j y_j in rank order
      const int ey = entry(chip, buffer_key("ey"));
      const int route = entry(chip, buffer_key("route"));
      const int y = entry(chip, buffer_key("y"));
      for (std::uint32_t j = 0; j < k; ++j) {
        for (std::uint32_t r = 0; r < n; ++r) {
          Instruction in_ = instr(Opcode::kCombine, Unit::kVector);
          in_.flags = j == 0 ? isa::kAccInit : 0;
          in_.src[0] = operand(ey, (std::uint64_t{dense ? 0 : j} * mr + r) * d * 4, 4ull * d);
          if (dense) in_.src[0].index_reg = combine_register(r, j, k, mr, t.matrix.planes);
          in_.src[1] = operand(route);
          in_.dst = operand(y, 4ull * r * d, 4ull * d);
          in_.p = {1, d, j, k, r, 0, 0};
          const auto yr = static_cast<std::uint64_t>(y);
          const std::int64_t row = (2ll << 40) + r;  // row r of y: its own part
          if (dense) {
            sched.add(chip, in_, {{static_cast<std::uint64_t>(ey), -1}, {static_cast<std::uint64_t>(route), -1},
                                  {register_region(chip, 0), -1}, {yr, row}},
                      {{yr, row}});
          } else {
            sched.add(chip, in_, {{static_cast<std::uint64_t>(ey), -1}, {static_cast<std::uint64_t>(route), -1},
                                  {yr, row}},
                      {{yr, row}});
          }
        }
      }
      break;
    }
  }
}

}  // namespace lpu::compiler
