#pragma once
// The device interface: what a hardware driver implements and what the
// runtime drives. A Device is opened on a backend for a target, loads a
// Program (building every chip's SRAM image from the model: weights,
// scales, zeroed state), reads and writes SRAM regions (token ids and
// positions in, logits out, KV slots), sets index registers, runs a step
// variant and reports its cycle counters and per-unit activity.
//
// Backends, picked by name at run time:
//  - "cpu": runs the Program on the host (SIMD kernels, threads),
//  - "lpu-sim": the cycle-level simulator of the target (functional, or
//    timing-only: no data, every check).
// Both give the same bits for every step; the simulator's cycles equal
// the Program's static latency. A Device is used from one thread at a time.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lpu/model.h"
#include "lpu/program.h"
#include "lpu/progress.h"
#include "lpu/status.h"

namespace lpu {

struct DeviceOptions {
  /// Worker threads of the cpu backend (0: every hardware thread).
  int threads = 0;
  /// lpu-sim: check and time without computing data (read/write refused).
  bool timing_only = false;
  /// Told ("loading weights", tensors done, tensors) while load() fills
  /// the SRAM images.
  ProgressCallback progress;
};

/// Bytes [offset, offset + bytes) of pool `pool` of chip `chip`.
struct SramRegion {
  std::uint32_t chip = 0;
  std::uint32_t pool = 0;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
};

/// What one step did.
struct StepCounters {
  std::string variant;
  /// Cycles the step took on the device (lpu-sim: simulated; cpu: 0).
  std::uint64_t cycles = 0;
  /// The Program's promise for this variant.
  std::uint64_t static_latency_cycles = 0;
  /// Host wall time of run().
  double host_seconds = 0;
  /// Busy cycles per unit kind over all chips ("matrix", "vector", ...;
  /// lpu-sim only).
  std::vector<std::pair<std::string, std::uint64_t>> unit_busy_cycles;
  /// lpu-sim: dynamic + static energy of the step, joules.
  double energy_j = 0;
};

class Device {
 public:
  virtual ~Device() = default;
  /// "cpu" or "lpu-sim".
  virtual std::string_view backend() const = 0;
  /// Loads `program` (compiled for this device's target) and builds the
  /// chips' SRAM images from `model`, whose hash must be the Program's.
  virtual Status load(const Program& program, const Model& model) = 0;
  virtual Status write(const SramRegion& region, std::span<const std::uint8_t> bytes) = 0;
  virtual Status read(const SramRegion& region, std::span<std::uint8_t> out) const = 0;
  /// Sets index register `reg` of chip `chip` (e.g. r1, the prefill slot).
  virtual Status set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value) = 0;
  /// Runs one step of variant `name`.
  virtual Result<StepCounters> run(std::string_view name) = 0;
};

/// Opens a device of `backend` for `target` (a preset name or a JSON
/// file). Errors name an unknown backend and list the known ones.
Result<std::unique_ptr<Device>> open_device(std::string_view backend, const std::string& target,
                                            const DeviceOptions& options = {});

/// The backend names open_device accepts.
std::vector<std::string> device_backends();

}  // namespace lpu
