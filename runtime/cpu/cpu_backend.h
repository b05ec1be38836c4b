#pragma once
// The CPU backend: runs a Program on the host, bit-identical to the LPU
// simulator. It executes a step's instructions in program order (seq), the
// order that defines every value (docs/isa.md, "Program order"), reading
// and writing only the chips' SRAM images: weights, scales, KV entries and
// activations at the Program's (pool, offset); a send is a copy between
// images. How each variant runs is planned once (step_plan.h: whole weight
// matmuls in the kernels' packed layout as one threaded matmul_s8 call,
// concurrent attention sets); the executors are in executor.h.

#include <cstdint>
#include <memory>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "kernels/dispatch/int8_kernels.h"
#include "kernels/dispatch/isa.h"
#include "kernels/dispatch/thread_pool.h"
#include "kernels/float/float_kernels.h"
#include "lib/program/program.h"
#include "lib/target/target.h"
#include "runtime/device/model_shape.h"
#include "runtime/device/sram_image.h"

namespace lpu::cpu {

struct ExecState;
struct StepPlan;

using CpuModel = runtime::ModelShape;

class CpuBackend {
 public:
  /// threads: worker threads (0: all hardware threads); isa: the kernel
  /// path (failed_precondition when this CPU cannot run it). Results are
  /// the same for any of both.
  static Result<std::unique_ptr<CpuBackend>> create(const program::Program& p,
                                                    const target::Target& t, CpuModel model,
                                                    int threads, kernels::Isa isa);
  ~CpuBackend();

  void set_images(std::vector<runtime::ChipImage> images) { images_ = std::move(images); }
  std::vector<runtime::ChipImage>& images() { return images_; }
  void set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value);

  /// Runs variant `name` once.
  Status run(const std::string& name);

 private:
  CpuBackend(const program::Program& p, const target::Target& t, CpuModel model, int threads,
             const kernels::FloatKernels& fp, const kernels::Int8Kernels& i8);

  const program::Program& p_;
  target::Target t_;
  CpuModel model_;
  std::unique_ptr<kernels::ThreadPool> pool_;
  std::vector<runtime::ChipImage> images_;
  std::unique_ptr<ExecState> state_;
  std::unordered_map<std::string, std::unique_ptr<StepPlan>> plans_;
};

}  // namespace lpu::cpu
