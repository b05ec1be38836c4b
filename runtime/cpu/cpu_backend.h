#pragma once
// The CPU backend: runs a Program on the host, bit-identical to the LPU
// simulator. It executes a step's instructions in program order (seq), the
// order that defines every value (docs/isa.md, "Program order"), reading
// and writing only the chips' SRAM images: weights, scales, KV entries and
// activations at the Program's (pool, offset); a send is a copy between
// images. Where a graph op's instructions form a whole weight matmul whose
// blocks are the kernels' packed layout (tile_n 16 and K segments equal to
// the groups, as on cpu-host), the op runs as one threaded matmul_s8 call;
// everything else runs instruction by instruction.

#include <cstdint>
#include <memory>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "kernels/dispatch/thread_pool.h"
#include "lib/program/program.h"
#include "lib/target/target.h"
#include "runtime/device/sram_image.h"

namespace lpu::cpu {

/// What the backend needs of the model besides the Program.
struct CpuModel {
  ModelConfig config;
  std::vector<float> rope_freqs;  ///< empty unless the model has rope_freqs.weight
};

class CpuBackend {
 public:
  /// threads: worker threads (0: all hardware threads).
  static Result<std::unique_ptr<CpuBackend>> create(const program::Program& p,
                                                    const target::Target& t, CpuModel model,
                                                    int threads);
  ~CpuBackend();

  void set_images(std::vector<runtime::ChipImage> images) { images_ = std::move(images); }
  std::vector<runtime::ChipImage>& images() { return images_; }
  void set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value);

  /// Runs variant `name` once.
  Status run(const std::string& name);

  /// Per variant, the instructions in program order and their op groups.
  struct Plan;
  /// Registers, matrix planes and kernel tables of one backend.
  struct State;

 private:
  CpuBackend(const program::Program& p, const target::Target& t, CpuModel model, int threads);
  std::unique_ptr<Plan> make_plan(const program::Variant& v) const;

  const program::Program& p_;
  target::Target t_;
  CpuModel model_;
  std::unique_ptr<kernels::ThreadPool> pool_;
  std::vector<runtime::ChipImage> images_;
  std::unique_ptr<State> state_;
  std::unordered_map<std::string, std::unique_ptr<Plan>> plans_;
};

}  // namespace lpu::cpu
