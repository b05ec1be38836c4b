#pragma once
// How the CPU backend runs one step variant, worked out once per variant:
// the instructions in program order, the runs of instructions that form a
// whole weight matmul in the kernels' packed layout (one matmul_s8 call
// each), and the attention ops whose scratch sets can run concurrently.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "lib/isa/isa.h"
#include "lib/program/program.h"
#include "lib/target/target.h"

namespace lpu::cpu {

/// An instruction: its chip and index in that chip's stream.
struct Ref {
  std::uint32_t chip = 0;
  std::uint32_t index = 0;
};

inline constexpr std::uint32_t kNoRun = 0xffffffffu;

/// How an attention unit's pass is cut to its row's position, read at run
/// time from the unit's softmax: scores past the position are masked and
/// overwritten by the softmax, and probabilities past it are zero, so
/// neither changes a result.
enum class PositionLimit : std::uint8_t {
  kNone,
  kColumns,  ///< QK^T: the score columns up to the position
  kGroups,   ///< PV (and the probabilities' quantise): the groups of K holding it
};

/// A whole weight matmul as one kernel call.
struct FastMatmul {
  std::uint32_t chip = 0;
  isa::Operand x;  ///< the activation rows
  std::uint32_t rows = 0, k = 0, n = 0, group = 0;
  std::uint8_t w_pool = 0;
  std::uint16_t w_reg = 0;  ///< the loads' index register (a prefill's KV cache), or 0
  std::uint64_t w_offset = 0;
  std::uint8_t y_pool = 0;
  std::uint64_t y_offset = 0;
  std::uint32_t y_stride = 0;  ///< floats
  PositionLimit limit = PositionLimit::kNone;
  Ref softmax;  ///< with a limit: the unit's softmax
};

/// An op whose instructions fall into groups that run concurrently, each
/// in program order: an attention op's per-(row, KV head) units by the
/// scratch set they use (att.qq<i>, att.sc<i>, att.pq<i>), a KV append op's
/// instructions by the cache entry they write. Items of one group may
/// depend on each other; different groups touch disjoint bytes (checked
/// when planning).
struct ParallelOp {
  std::size_t begin = 0, end = 0;                                       ///< in `order`
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> groups;  ///< ranges per set
};

struct StepPlan {
  std::vector<Ref> order;  ///< program order
  /// Runs of `order` executed as one matmul call: [begin, end) -> call.
  std::vector<std::pair<std::pair<std::size_t, std::size_t>, FastMatmul>> fast;
  /// Per index of `order`: the run starting there (an index into `fast`),
  /// or kNoRun.
  std::vector<std::uint32_t> fast_at;
  std::vector<ParallelOp> parallel;
  /// Per index of `order`: for a quantise of attention probabilities, the
  /// index into `softmaxes` of its unit's softmax (it quantises only the
  /// groups up to the position and zeroes the rest), else kNoRun.
  std::vector<std::uint32_t> quantize_limit;
  std::vector<Ref> softmaxes;
};

/// The plan of variant `v`; `concurrent` allows concurrent attention sets.
StepPlan make_step_plan(const program::Program& p, const program::Variant& v,
                        const target::Target& t, bool concurrent);

}  // namespace lpu::cpu
