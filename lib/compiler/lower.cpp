#include "lib/compiler/lower.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>

#include "lib/compiler/pieces.h"
#include "lib/isa/tiled_layout.h"

namespace lpu::compiler {
namespace {

using isa::Instruction;
using isa::Opcode;
using isa::Operand;
using isa::Unit;

struct Lowering {
  const graph::Graph& g;
  const ModelInput& m;
  const target::Target& t;
  const Shapes& s;
  const Partition& p;
  const Placement& place;
  Scheduler& sched;
  std::uint32_t op_id = 0;
  std::vector<std::uint32_t> next_slot;  // [chip * planes + plane]
  std::uint8_t pending_flags = 0;  // flags of the next instruction built

  std::uint32_t rows() const { return g.shape.rows; }
  const ModelConfig& c() const { return m.config; }

  int entry(std::uint32_t chip, const std::string& key) const {
    const int e = place.find(chip, key);
    LPU_CHECK_ENTRY(e, key);
    return e;
  }
  static void LPU_CHECK_ENTRY(int e, const std::string& key) {
    if (e < 0) {
      std::fprintf(stderr, "lpu: internal error: no placement for '%s'\n", key.c_str());
      std::abort();
    }
  }
  Operand operand(int e, std::uint64_t off = 0, std::uint64_t bytes = 0) const {
    const program::LayoutEntry& le = place.entry(e);
    Operand o;
    o.pool = le.pool;
    o.offset = le.offset + off;
    o.bytes = static_cast<std::uint32_t>(bytes == 0 ? le.bytes - off : bytes);
    return o;
  }
  Instruction instr(Opcode op, Unit u, std::uint32_t idx = 0) {
    Instruction in;
    in.op = op;
    in.unit = u;
    in.unit_index = static_cast<std::uint8_t>(idx);
    in.op_id = op_id;
    in.flags = pending_flags;
    pending_flags = 0;
    return in;
  }
  std::uint32_t stage_of(const graph::Op& op) const {
    const auto layers = static_cast<std::uint32_t>(c().n_layer);
    const std::uint32_t item = op.layer >= 0 ? static_cast<std::uint32_t>(op.layer) + 1
                               : op.kind == graph::OpKind::kEmbed ? 0 : layers + 1;
    return p.stage_of_item[item];
  }
  std::uint32_t link_to(std::uint32_t from, std::uint32_t to) const {
    const std::uint32_t cpn = t.topology.chips_per_node;
    if (from / cpn == to / cpn && t.topology.local_links + 1 >= cpn) {
      return (to % cpn + cpn - from % cpn - 1) % cpn;
    }
    const std::uint32_t globals = std::max(1u, t.topology.global_links);
    return std::min(t.links.count - 1, t.topology.local_links + to % globals);
  }

  // Sends rows x [col0, col0 + cols) floats of buffer `buf` (rows `width`
  // floats apart) from chip `from` to the same place on chip `to`.
  // `own`: -1 reads the whole buffer, >= 0 the part written whole under
  // that id, -2 the 16-column parts of the rows and columns sent.
  void send(const std::string& buf, std::uint32_t from, std::uint32_t to, std::uint32_t nrows,
            std::uint32_t row0, std::uint32_t col0, std::uint32_t cols, std::uint32_t width,
            std::int64_t sub, std::int64_t own = -2) {
    if (cols == 0 || nrows == 0) return;
    const int src = entry(from, buffer_key(buf));
    const int dst = entry(to, buffer_key(buf));
    const std::uint64_t off = (std::uint64_t{row0} * width + col0) * 4;
    const std::uint64_t span = (std::uint64_t{nrows} - 1) * width * 4 + cols * 4ull;
    Instruction in = instr(Opcode::kSend, Unit::kLink, link_to(from, to));
    in.src[0] = operand(src, off, span);
    in.dst = operand(dst, off, span);
    in.p = {to, nrows, cols * 4, width * 4, width * 4, 0, 0};
    // It reads this chip's own piece: the parts its matrix passes wrote
    // (16 columns each), or the piece written whole (`own`), never the
    // pieces other chips send in.
    std::vector<RegionRef> reads;
    const auto s_id = static_cast<std::uint64_t>(src);
    if (own >= 0) {
      reads.push_back({s_id, own, -1});
    } else if (own == -1) {
      reads.push_back({s_id, -1, -1});
    } else {
      for (std::uint32_t r = row0; r < row0 + nrows; ++r) {
        const std::uint64_t base = std::uint64_t{r} * width;
        reads.push_back({s_id, static_cast<std::int64_t>((base + col0) / 16),
                         static_cast<std::int64_t>((base + col0 + cols + 15) / 16)});
      }
    }
    const RegionRef write{static_cast<std::uint64_t>(dst), sub, -1};
    sched.add(from, in, std::span<const RegionRef>(reads), std::span<const RegionRef>(&write, 1));
  }

  // The peers of chip `a` of a stage in the order its sends go out: round
  // robin over its links, so that every link starts at once (a resource's
  // reservations only grow: emission order is priority).
  std::vector<std::uint32_t> send_order(std::uint32_t stage, std::uint32_t a) const {
    std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t>> keyed;
    std::map<std::uint32_t, std::uint32_t> per_link;
    for (std::uint32_t q = 1; q < p.tp; ++q) {
      const std::uint32_t b = (a + q) % p.tp;
      const std::uint32_t link = link_to(p.first_chip(stage) + a, p.first_chip(stage) + b);
      keyed.push_back({{per_link[link]++, link}, b});
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<std::uint32_t> out;
    for (const auto& k : keyed) out.push_back(k.second);
    return out;
  }

  // Every chip of `stage` sends its piece of the buffer to every other.
  void all_gather(std::uint32_t stage, const std::string& buf, std::uint32_t width,
                  std::uint32_t nrows, const std::vector<Range>& piece, std::uint32_t row0 = 0,
                  std::int64_t own = -2) {
    if (p.tp == 1) return;
    for (std::uint32_t a = 0; a < p.tp; ++a) {
      for (std::uint32_t b : send_order(stage, a)) {
        send(buf, p.first_chip(stage) + a, p.first_chip(stage) + b, nrows, row0, piece[a].begin,
             piece[a].size(), width, (1ll << 40) + a, own == -3 ? (1ll << 40) + a : own);
      }
    }
  }

  std::vector<Range> column_pieces(std::uint32_t n, std::uint32_t align = 16) const {
    std::vector<Range> out;
    for (std::uint32_t a = 0; a < p.tp; ++a) out.push_back(split_range(n, p.tp, a, align));
    return out;
  }

  Status lower_op(const graph::Op& op, std::uint32_t stage);
  void vector_op(std::uint32_t chip, Opcode code, const std::string& in_buf,
                 const std::string& in2_key, const std::string& out_buf,
                 std::array<std::uint32_t, 7> params, bool in_place_reads_out = false,
                 std::uint64_t in_bytes = 0, std::uint64_t out_bytes = 0);
  // Bytes of tensor `id` at this variant's rows.
  std::uint64_t tensor_bytes(std::uint32_t id) const {
    const graph::Tensor& tn = g.tensor(id);
    return tn.quantized ? isa::quantized_rows_bytes(tn.rows, tn.cols, s.group)
                        : std::uint64_t{tn.rows} * tn.cols * 4;
  }
  void matmul(std::uint32_t chip, std::uint32_t t2, const graph::Op& op, const std::string& in_buf,
              std::uint32_t in_row, std::uint32_t nrows, const std::string& out_buf,
              std::uint32_t out_row, std::uint32_t out_width, std::uint32_t expert_row,
              std::uint32_t rank, std::uint32_t expert = 0);
  void moe_op(std::uint32_t chip, std::uint32_t t2, const graph::Op& op);
  void tile_pass(std::uint32_t chip, std::uint32_t plane, int w_entry, std::uint64_t w_base,
                 std::uint16_t reg, std::uint32_t entry_rows, std::uint32_t layout_k,
                 std::uint32_t k, std::uint32_t group, const Operand& x, std::uint64_t x_region,
                 std::uint32_t nrows, std::uint32_t out_col, std::uint32_t out_width,
                 int out_entry, std::uint64_t out_off);
  // One (row, KV head) of attention: its cache entries and output offset.
  struct AttnUnit {
    std::uint32_t row, head;
    int k, v, vs;
    std::uint64_t out_off;
  };
  // One column tile of a matrix pass sequence, emitted segment by segment.
  struct TileJob {
    std::uint32_t plane = 0;
    int w_entry = 0;
    std::uint64_t block_off = 0;
    std::uint16_t reg = 0;
    std::uint32_t cols = 0, k = 0, nrows = 0, out_width = 0;
    Operand x, dst;
    std::uint64_t x_region = 0;
    RegionRef out_ref;
    std::shared_ptr<const std::vector<isa::Segment>> segs;
    std::size_t seg = 0;
  };
  std::vector<std::deque<TileJob>> pending;  // per plane
  void flush_tiles(std::uint32_t chip);
  void emit_segment(std::uint32_t chip, TileJob& job);
  void attention(std::uint32_t chip, std::uint32_t t2, const graph::Op& op);
  void attention_stage(std::uint32_t chip, const AttnUnit& u, std::size_t set, int stage);
  // Positions an int8 attention pass covers: the variant's context rounded
  // up to the value layout's K segments (laid out for the largest bucket),
  // so every value pass loads whole blocks; positions past a row's own
  // get zero probability.
  std::uint32_t attention_width() const {
    for (const isa::Segment& sg : isa::k_segments(s.context, t.matrix.tile_k, s.group)) {
      if (sg.k1 >= g.shape.context) return sg.k1;
    }
    return s.context;
  }
  void stage_enter(std::uint32_t from, std::uint32_t to);
};


void Lowering::vector_op(std::uint32_t chip, Opcode code, const std::string& in_buf,
                         const std::string& in2_key, const std::string& out_buf,
                         std::array<std::uint32_t, 7> params, bool in_place_reads_out,
                         std::uint64_t in_bytes, std::uint64_t out_bytes) {
  const int a = entry(chip, buffer_key(in_buf));
  const int o = entry(chip, buffer_key(out_buf));
  Instruction in = instr(code, isa::opcode_unit(code));
  in.src[0] = operand(a, 0, in_bytes);
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
  const std::uint32_t n = rows();
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
                  false, tensor_bytes(op.inputs[0]), tensor_bytes(op.outputs[0]));
        break;
      case graph::OpKind::kQuantize: {
        if (out_buf == "esq") {
          moe_op(chip, t2, op);
          break;
        }
        const graph::Tensor& src = g.tensor(op.inputs[0]);
        const std::uint32_t qrows = src.rows * (src.cols / op.k);
        vector_op(chip, Opcode::kQuantize, in_buf, "", out_buf, {qrows, op.k, op.k, s.group, 0, 0, 0},
                  false, tensor_bytes(op.inputs[0]), tensor_bytes(op.outputs[0]));
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

}  // namespace

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
