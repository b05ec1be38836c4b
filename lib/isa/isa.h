#pragma once
// The LPU instruction set: tile-level instructions, each one functional
// unit's work for a known number of cycles (docs/isa.md gives the exact
// semantics of every opcode; lib/isa/timing.h the duration of each).
//
// An instruction names its unit, its issue cycle, its duration, its place
// in program order, the graph op it belongs to, up to three source operands and one destination as
// (pool, offset, bytes), and a few opcode-specific integer parameters.
// Addresses can be indexed: an operand with a register r != 0 adds
// value(r) * stride(r) to its offset, where the Program's register table
// gives the stride and the number of values r can take (MoE expert choice,
// the KV position of a slot). The index changes an address, never a timing.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "include/lpu/status.h"

namespace lpu::isa {

/// The resources an instruction occupies for its duration (besides its
/// operands' SRAM banks). `index` picks the plane or link.
enum class Unit : std::uint8_t {
  kMatrix = 0,      ///< matrix plane `index`: multiply against its loaded tile
  kWeightLoad = 1,  ///< matrix plane `index`'s weight-load port
  kVector = 2,      ///< the vector unit
  kSwitch = 3,      ///< the switch unit (gathers, copies)
  kLink = 4,        ///< outgoing chip-to-chip link `index`
  kSync = 5,        ///< no unit: barriers
};
inline constexpr int kUnitCount = 6;
std::string_view unit_name(Unit u);

enum class Opcode : std::uint8_t {
  kNop = 0,
  // --- switch unit ---
  /// dst[r][p[4] + j] = element j of the table's row for token src0[r]
  /// (int32), dequantised to fp32; p[0] rows, p[1] columns, p[2] the
  /// table's GGUF type id, p[3] its row bytes, p[5] dst row stride (floats).
  /// src1 = the table (this chip's columns of every token).
  kEmbed,
  /// dst = src0 (bytes).
  kCopy,
  // --- vector unit ---
  /// dst[r] = rmsnorm(src0[r]) * src1; p[0] rows, p[1] width; eps from the Program.
  kRmsNorm,
  /// dst = src1 + src0, fp32 (the residual x in src1, the block's output
  /// in src0: the int8 pass's x + y); p[0] elements.
  kAdd,
  /// dst[r] = silu(src0[r][0..w)) * src0[r][w..2w) ... see docs/isa.md;
  /// p[0] rows, p[1] w, p[2] src0 row stride (floats).
  kSiluMul,
  /// Quantises p[0] rows of p[1] floats (src0, row stride p[2] floats) at
  /// group p[3] into the quantised-rows layout at dst.
  kQuantize,
  /// dst[r] = cos/sin table of position src0[r]; p[0] rows, p[1] rope_dim.
  kRopeAngles,
  /// Rotates p[1] heads of width p[2] (first p[3] dims) of each of p[0]
  /// rows of dst (= src1, rows p[4] floats apart: q then k heads of a qkv
  /// row) in place with the angles at src0.
  kRope,
  /// Stores KV head p[1]'s key (p[3] = 0) or value (p[3] = 1) of row p[4]
  /// of the qkv rows at src0 (p[5] floats apart; k after n_head heads of
  /// q) into the cache at dst (the slot's; indexed by the prefill slot
  /// register when prefilling), at the row's position read from src1;
  /// p[0] = 1 row, p[2] head_dim, p[6] the context the cache is laid out
  /// for. A value's dst also covers its per-position scales.
  kKvAppend,
  /// Scores (src0 = dst, p[0] rows of p[1] positions) to probabilities:
  /// times 1/sqrt(p[3]), positions past row p[2]'s own (src2) masked,
  /// softmax, times the per-position value scales (src1).
  kSoftmax,
  /// fp16-cache attention of p[0] query heads (src0) of row p[4], KV head
  /// p[5], over positions [p[1], p[2]) of the bucket, stopping at the row's
  /// position (src2): keys at src1, values p[6] bytes further; head_dim
  /// p[3]; into dst.
  kAttentionF16,
  /// Router logits (src0 rows x src1 fp32 matrix), softmax, top-k:
  /// dst = k expert ids + k weights per row; p[0] rows, p[1] experts,
  /// p[2] k, p[3] n_embd.
  kRouterTopK,
  /// From the router's result (src0): the expert registers p[0] ..
  /// p[0] + p[1] - 1, one per (row, rank, plane) (p[2] = k, p[3] planes),
  /// and, for steps that run every expert (p[5] > 0), the combine's
  /// registers p[4] .. p[4] + p[5] - 1, one per (row, rank); p[6] max rows.
  kSelectExperts,
  /// dst (row p[4]) += src0 * the row's rank-p[2] router weight (src1; p[3]
  /// = k); p[0] = 1 row of p[1] floats; flag kAccInit zeroes dst first
  /// (rank 0). Ranks in order, so the sum follows the router's rank order.
  kCombine,
  // --- matrix unit ---
  /// Loads a weight tile (src0, one block of the tiled 16c4 layout) into
  /// buffer slot p[0] of plane `unit_index`; p[1] k extent, p[2] columns.
  kLoadWeights,
  /// Multiplies p[0] rows of quantised activations (src0: rows of width
  /// p[5], the segment starting at k = p[4]) by the tile in slot p[1];
  /// p[2] k extent, p[3] columns, p[6] dst row stride in floats.
  /// The plane keeps int32 partial sums and an fp32 accumulator per output
  /// across the passes of one tile (consecutive on that plane). flags:
  /// kGroupBegin zeroes the int32 sums, kGroupEnd adds the group's
  /// epilogue fma(float(sum), w_scale * x_scale, acc) to the accumulator,
  /// kAccInit zeroes the accumulator first (the tile's first pass),
  /// kStore writes the accumulator to dst (the tile's last pass).
  kMatmul,
  // --- links ---
  /// Sends p[1] rows of p[2] bytes (src0, rows p[3] bytes apart) over link
  /// `unit_index` to chip p[0], landing at dst there (rows p[4] bytes apart).
  kSend,
  /// Marks where a send from chip p[0] lands (dst); occupies nothing.
  kRecv,
  // --- sync ---
  /// All chips reach this cycle together (counters aligned).
  kBarrier,
  kOpcodeCount,
};
std::string_view opcode_name(Opcode op);
/// The unit kind an opcode runs on.
Unit opcode_unit(Opcode op);

/// Matmul flags.
enum InstrFlags : std::uint8_t {
  kGroupBegin = 1u << 0,
  kGroupEnd = 1u << 1,
  kAccInit = 1u << 2,
  kStore = 1u << 3,
};

/// Pool index meaning "no operand".
inline constexpr std::uint8_t kNoPool = 0xff;

/// (pool, offset, bytes), optionally indexed by a register.
struct Operand {
  std::uint8_t pool = kNoPool;
  std::uint8_t reserved = 0;
  /// 0: direct; else the index register whose value scales its stride.
  std::uint16_t index_reg = 0;
  std::uint32_t bytes = 0;
  std::uint64_t offset = 0;

  bool present() const { return pool != kNoPool; }
  std::uint64_t end() const { return offset + bytes; }
};
static_assert(sizeof(Operand) == 16);

struct Instruction {
  Opcode op = Opcode::kNop;
  Unit unit = Unit::kSync;
  std::uint8_t unit_index = 0;
  std::uint8_t flags = 0;
  /// Id of the graph op this instruction belongs to.
  std::uint32_t op_id = 0;
  std::uint64_t issue_cycle = 0;
  std::uint32_t duration = 0;
  /// Program order: the instruction's place in the variant's one
  /// sequential order over all chips (0, 1, ...). Executing instructions
  /// one at a time in this order defines every result; the schedule is
  /// legal when the timed execution reads and writes as that order does
  /// (docs/isa.md, "Program order").
  std::uint32_t seq = 0;
  /// Opcode-specific parameters (docs/isa.md); unused ones are 0.
  std::array<std::uint32_t, 7> p{};
  std::uint32_t reserved = 0;
  std::array<Operand, 3> src{};
  Operand dst{};

  std::uint64_t end_cycle() const { return issue_cycle + duration; }
};
static_assert(sizeof(Instruction) == 120);

/// One line of text: "@1234 +40 #17 mxm.0 matmul op=17 src=(L2_weights+0x100:102400) ...".
std::string to_text(const Instruction& in, const std::string* pool_names, std::size_t pools);

}  // namespace lpu::isa
