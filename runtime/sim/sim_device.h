#pragma once
// The "lpu-sim" backend behind the device interface, and its last step's
// full report (trace, per-op bottlenecks) for tools.

#include <memory>

#include "include/lpu/device.h"
#include "lib/target/target.h"
#include "runtime/sim/simulator.h"

namespace lpu::sim {

Result<std::unique_ptr<Device>> open_sim_device(target::Target target, const DeviceOptions& options);

/// The report of the last step `device` (an lpu-sim device) ran, or null.
const StepReport* last_report(const Device& device);

}  // namespace lpu::sim
