#pragma once
// The lowering's state and helpers, shared by its files: lower.cpp (the
// ops, the variant), lower_transfer.cpp (sends and all-gathers),
// lower_matmul.cpp (matrix passes and MoE), lower_attention.cpp.

#include <array>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "lib/compiler/lower.h"
#include "lib/compiler/pieces.h"
#include "lib/isa/tiled_layout.h"

namespace lpu::compiler {

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

  // The layout entry placed under `key`; placement placed every key the
  // lowering asks for, so a miss is a compiler bug.
  int entry(std::uint32_t chip, const std::string& key) const {
    const int e = place.find(chip, key);
    if (e < 0) {
      std::fprintf(stderr, "lpu: internal error: chip %u has no placement for '%s'\n", chip,
                   key.c_str());
      std::abort();
    }
    return e;
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
    return p.stage_of_item[op_item(op, static_cast<std::uint32_t>(c().n_layer))];
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
            std::int64_t sub, std::int64_t own = -2);
  // The peers of chip `a` of a stage in the order its sends go out.
  std::vector<std::uint32_t> send_order(std::uint32_t stage, std::uint32_t a) const;
  // Every chip of `stage` sends its piece of the buffer to every other
  // (own as for send; -3: the piece each chip wrote whole under its id).
  void all_gather(std::uint32_t stage, const std::string& buf, std::uint32_t width,
                  std::uint32_t nrows, const std::vector<Range>& piece, std::uint32_t row0 = 0,
                  std::int64_t own = -2);

  std::vector<Range> column_pieces(std::uint32_t n, std::uint32_t align = 16) const {
    std::vector<Range> out;
    for (std::uint32_t a = 0; a < p.tp; ++a) out.push_back(split_range(n, p.tp, a, align));
    return out;
  }

  Status lower_op(const graph::Op& op, std::uint32_t stage);
  void vector_op(std::uint32_t chip, Opcode code, const std::string& in_buf,
                 const std::string& in2_key, const std::string& out_buf,
                 std::array<std::uint32_t, 7> params, bool in_place_reads_out = false,
                 std::uint64_t in_bytes = 0, std::uint64_t out_bytes = 0, std::uint64_t in_offset = 0);
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

}  // namespace lpu::compiler
