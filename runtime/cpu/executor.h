#pragma once
// The CPU backend's instruction executors: each opcode's meaning
// (docs/isa.md) on the chips' SRAM images, float work on the float
// kernels, row quantisation on the quantiser kernel, matrix passes on the
// GEMM kernels (a whole weight matmul as one matmul_s8 call).

#include <array>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "include/lpu/status.h"
#include "kernels/dispatch/int8_kernels.h"
#include "kernels/dispatch/thread_pool.h"
#include "kernels/float/float_kernels.h"
#include "lib/isa/tiled_layout.h"
#include "lib/model/rope_angles.h"
#include "lib/program/program.h"
#include "lib/program/register_table.h"
#include "lib/target/target.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/cpu/step_plan.h"
#include "runtime/device/sram_image.h"

namespace lpu::cpu {

using isa::Instruction;

/// The key of index register `reg` of chip `chip` in ExecState::regs.
inline std::uint64_t reg_key(std::uint32_t chip, std::uint16_t reg) { return program::RegisterTable::key(chip, reg); }

/// Index registers, matrix planes and kernel tables of one backend.
struct ExecState {
  struct Plane {
    // A slot points at the block its load named: the compiler emits each
    // load right before the pass that uses it, so in program order nothing
    // writes the block in between and the bytes are the ones loaded.
    std::vector<std::pair<const std::uint8_t*, std::uint64_t>> slots;
    std::int32_t groups_begun = 0;
    std::vector<std::int32_t> isum;
    std::vector<float> acc;
  };
  std::unordered_map<std::uint64_t, std::uint32_t> regs;
  program::RegisterTable reg_table;
  std::vector<Plane> planes;
  RopeAngleSchedule rope;
  // The kernel path (ISA) every executor uses.
  const kernels::FloatKernels& fp;
  const kernels::Int8Kernels& i8;
  // Tiled layouts of the KV cache by (n, k, group): built once, not per append.
  std::map<std::array<std::uint32_t, 3>, isa::TiledAddress> layouts;
  const isa::TiledAddress& layout(std::uint32_t n, std::uint32_t k, std::uint32_t tile_n, std::uint32_t tile_k,
                                  std::uint32_t group) {
    const std::array<std::uint32_t, 3> key{n, k, group};
    auto it = layouts.find(key);
    if (it == layouts.end()) it = layouts.emplace(key, isa::TiledAddress(n, k, tile_n, tile_k, group)).first;
    return it->second;
  }
  ExecState(const program::Program& p, const CpuModel& m, const kernels::FloatKernels& f,
            const kernels::Int8Kernels& k)
      : reg_table(p), rope(m.config, m.rope_freqs), fp(f), i8(k) {}
};


/// Executes instructions in program order on the chips' images: one per
/// thread (it holds scratch), sharing the backend's ExecState.
class Step {
 public:
  Step(const program::Program& p, const target::Target& t, const CpuModel& m,
       std::vector<runtime::ChipImage>& img, ExecState& s, kernels::ThreadPool* pool)
      : p_(p), t_(t), m_(m), img_(img), s_(s), pool_(pool) {}

  Status run(const Ref& ref, const Instruction& in);
  /// A quantise of attention probabilities, cut to the groups up to the
  /// position named by the unit's softmax `sm` (on chip ref.chip).
  Status quantize_to_position(const Ref& ref, const Instruction& in, const Instruction& sm);
  /// `sm`: the unit's softmax when f.limit is set.
  Status fast_matmul(const FastMatmul& f, const Instruction* sm);

 private:
  std::uint8_t* at(std::uint32_t chip, const isa::Operand& o, std::uint64_t extra, std::uint64_t n,
                   const Instruction& in, Status& e) {
    std::uint64_t off = o.offset + extra;
    if (o.index_reg != 0) {
      const program::IndexRegister* r = s_.reg_table.find(chip, o.index_reg);
      const auto v = s_.regs.find(reg_key(chip, o.index_reg));
      const std::uint32_t val = v == s_.regs.end() ? 0 : v->second;
      if (r == nullptr || val >= r->count) {
        e = failed_precondition("chip " + std::to_string(chip) + " #" + std::to_string(in.seq) + " " +
                                std::string(isa::opcode_name(in.op)) + ": index register r" +
                                std::to_string(o.index_reg) + " holds " + std::to_string(val) + " (out of range)");
        return nullptr;
      }
      off += std::uint64_t{val} * r->stride_bytes;
    }
    std::uint8_t* ptr = chip < img_.size() && o.pool < img_[chip].pools.size() ? img_[chip].pools[o.pool].at(off, n) : nullptr;
    if (ptr == nullptr) {
      e = failed_precondition("chip " + std::to_string(chip) + " #" + std::to_string(in.seq) + " " +
                              std::string(isa::opcode_name(in.op)) + ": bytes [" + std::to_string(off) + ", +" +
                              std::to_string(n) + ") of pool " + std::to_string(o.pool) + " are not laid out");
    }
    return ptr;
  }
  float* f32(std::uint32_t chip, const isa::Operand& o, std::uint64_t extra_floats, std::uint64_t n,
             const Instruction& in, Status& e) {
    return reinterpret_cast<float*>(at(chip, o, 4 * extra_floats, 4 * n, in, e));
  }
  // Quantises rows of k values at group g into the layout of docs/isa.md;
  // only the first `k_valid` values are read, the rest taken as the zeros
  // they must be (whole groups of zeros quantise to scale 0, sum 0).
  void quantize(const float* x, std::size_t x_stride, std::uint32_t rows, std::uint32_t k,
                std::uint32_t g, std::uint8_t* out, std::uint32_t k_valid);
  void quantize(const float* x, std::size_t x_stride, std::uint32_t rows, std::uint32_t k,
                std::uint32_t g, std::uint8_t* out) {
    quantize(x, x_stride, rows, k, g, out, k);
  }
  // A quantize instruction reading only the first k_valid values of a row.
  Status quantize_op(std::uint32_t chip, const Instruction& in, std::uint32_t k_valid);
  // Positions a unit attends over (its row's position + 1), read from its
  // softmax; 0 when the position is out of range (the softmax reports it).
  std::uint32_t positions_of(std::uint32_t chip, const Instruction& sm);

  Status embed(const Ref& r, const Instruction& in);
  Status kv_append(const Ref& r, const Instruction& in);
  Status softmax(const Ref& r, const Instruction& in);
  Status attention_f16(const Ref& r, const Instruction& in);
  Status router(const Ref& r, const Instruction& in);
  Status combine(const Ref& r, const Instruction& in);
  Status matmul(const Ref& r, const Instruction& in);

  const program::Program& p_;
  const target::Target& t_;
  const CpuModel& m_;
  std::vector<runtime::ChipImage>& img_;
  ExecState& s_;
  kernels::ThreadPool* pool_;
  // Scratch reused across instructions (a Step per concurrent task).
  std::vector<float> tmp_;
  std::vector<std::uint8_t> qrow_;
};

}  // namespace lpu::cpu
