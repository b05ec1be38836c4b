#pragma once
// The "cpu" backend behind the device interface.

#include <memory>

#include "include/lpu/device.h"
#include "kernels/dispatch/isa.h"
#include "lib/target/target.h"

namespace lpu::cpu {

/// `isa`: the kernel path (tests compare them; the same bits on each).
Result<std::unique_ptr<Device>> open_cpu_device(target::Target target, const DeviceOptions& options,
                                                kernels::Isa isa = kernels::active_isa());

}  // namespace lpu::cpu
