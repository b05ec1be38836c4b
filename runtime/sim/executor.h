#pragma once
// The functional half of the simulator: what each instruction computes,
// from the bytes of the chip images (docs/isa.md, "Opcodes"). An
// instruction's sources are read when its read window opens; what it
// computes is held in Effects until its result lands. Integer tiles are
// computed here, exactly (int8 products summed in int32 within a group,
// one fp32 epilogue per group in ascending K order); float work goes
// through the float kernels and the project's math functions, the one
// implementation of float arithmetic both backends share.

#include <array>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "kernels/float/float_kernels.h"
#include "lib/model/rope_angles.h"
#include "lib/isa/tiled_layout.h"
#include "lib/program/program.h"
#include "lib/target/target.h"
#include "runtime/device/model_shape.h"
#include "runtime/device/sram_image.h"
#include "runtime/sim/operand_ranges.h"
#include "runtime/sim/sim_error.h"

namespace lpu::sim {

/// What an instruction writes when its result lands.
struct Effects {
  struct Piece {
    std::uint32_t chip = 0;
    std::uint8_t pool = 0;
    std::uint64_t offset = 0;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Piece> pieces;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> registers;  // (register_key, value)
  bool slot = false;
  std::uint32_t chip = 0, plane = 0, slot_index = 0;
  std::vector<std::uint8_t> slot_bytes;
};

using StepModel = runtime::ModelShape;

class Executor {
 public:
  Executor(const program::Program& p, const target::Target& t, const StepModel& m,
           std::vector<runtime::ChipImage>& images, const RegisterTable& regs);

  /// Reads `in`'s sources and computes its result into `fx`.
  Status read(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  /// Lands a result.
  void land(Effects& fx);

  /// Current value of an index register (0 until set).
  std::uint32_t register_value(std::uint32_t chip, std::uint16_t reg) const;
  void set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value);

 private:
  struct Plane {
    std::vector<std::vector<std::uint8_t>> slots;
    std::uint32_t rows = 0, cols = 0;
    std::int32_t groups_begun = 0;
    std::vector<std::int32_t> isum;
    std::vector<float> acc;
  };

  // The bytes [offset + extra, + n) of an operand on `chip`, the register
  // applied; null with `error` set when outside the chip's image.
  std::uint8_t* bytes(std::uint32_t chip, const isa::Operand& o, std::uint64_t extra,
                      std::uint64_t n, Status& error, const InstrRef& ref,
                      const isa::Instruction& in);
  std::uint64_t resolved(std::uint32_t chip, const isa::Operand& o) const;
  void out(Effects& fx, std::uint32_t chip, const isa::Operand& o, std::uint64_t extra,
           const void* data, std::uint64_t n);

  Status embed(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status vector_op(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status kv_append(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status softmax(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status attention_f16(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status router(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status select_experts(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status combine(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status load_weights(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status matmul(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  Status send(const InstrRef& ref, const isa::Instruction& in, Effects& fx);
  // A KV cache's tiled layout (n x k at `group`), built once.
  const isa::TiledAddress& layout(std::uint32_t n, std::uint32_t k, std::uint32_t group);

  const program::Program& p_;
  const target::Target& t_;
  const StepModel& m_;
  std::vector<runtime::ChipImage>& img_;
  const RegisterTable& regs_;
  const kernels::FloatKernels& fp_;
  RopeAngleSchedule rope_;
  std::unordered_map<std::uint64_t, std::uint32_t> reg_values_;
  std::vector<Plane> planes_;  // chip * planes + plane
  std::map<std::array<std::uint32_t, 3>, isa::TiledAddress> layouts_;
};

}  // namespace lpu::sim
