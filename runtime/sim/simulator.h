#pragma once
// The LPU simulator: runs one step variant of a Program on a model of the
// target, instruction by instruction in cycle order (event-driven: no tick
// of idle cycles), as an independent witness of the compiler's schedule:
//  - every instruction's duration and latencies come from machine_timing,
//    and a Program whose recorded duration differs is refused;
//  - units, bank ports and links are checked for double booking in each
//    chip's issue order; addresses against the pools;
//  - reads and writes are checked against program order (order_checker);
//  - functional mode computes the data (executor): reads see the SRAM at
//    issue + read latency, results land at completion;
//  - timing-only mode skips the data and checks every address an index
//    register could give.
// The step's simulated cycles are the last landing of any result.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "include/lpu/status.h"
#include "lib/program/program.h"
#include "lib/target/target.h"
#include "runtime/device/sram_image.h"
#include "runtime/sim/executor.h"

namespace lpu::sim {

struct SimOptions {
  bool timing_only = false;
};

/// Where one graph op's time went (the bottleneck report).
struct OpSummary {
  std::uint32_t op = 0;
  std::uint64_t start = 0, end = 0;  ///< first issue, last landing
  std::string resource;              ///< the busiest unit kind on its busiest chip
  std::uint64_t busy_cycles = 0;     ///< that resource's cycles in this op
};

struct StepReport {
  std::string variant;
  std::uint64_t simulated_cycles = 0;
  std::uint64_t static_latency_cycles = 0;
  std::uint64_t instructions = 0;
  /// Busy cycles per unit kind (isa::Unit), summed over chips and indices.
  std::array<std::uint64_t, isa::kUnitCount> busy{};
  /// Unit instances per kind over the system (for utilisation).
  std::array<std::uint64_t, isa::kUnitCount> units{};
  std::vector<std::uint64_t> pool_read_bytes, pool_write_bytes;  // per pool index
  std::uint64_t link_bytes = 0;
  std::uint64_t macs = 0;
  std::uint64_t vector_ops = 0;
  /// Dynamic energy from the target's per-operation figures plus static
  /// power over the step, in joules.
  double energy_j = 0;
  std::vector<OpSummary> ops;
  double host_seconds = 0;
};

class Simulator {
 public:
  /// Refuses a Program built for another target (hash) or chip count.
  static Result<std::unique_ptr<Simulator>> create(const program::Program& p,
                                                   const target::Target& t, StepModel model);

  /// Functional mode's SRAM (build_sram_images); timing-only needs none.
  void set_images(std::vector<runtime::ChipImage> images) { images_ = std::move(images); }
  std::vector<runtime::ChipImage>& images() { return images_; }
  void set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value);

  /// Runs variant `name`: an error names the chip, instruction, cycle,
  /// opcode and what went wrong.
  Result<StepReport> run(const std::string& name, const SimOptions& options);

  const program::Program& program() const { return p_; }
  const target::Target& target() const { return t_; }

 private:
  Simulator(const program::Program& p, const target::Target& t, StepModel model);

  const program::Program& p_;
  target::Target t_;
  StepModel model_;
  RegisterTable regs_;
  std::vector<runtime::ChipImage> images_;
  std::unique_ptr<Executor> exec_;
};

}  // namespace lpu::sim
