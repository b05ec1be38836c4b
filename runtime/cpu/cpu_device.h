#pragma once
// The "cpu" backend behind the device interface.

#include <memory>

#include "include/lpu/device.h"
#include "lib/target/target.h"

namespace lpu::cpu {

Result<std::unique_ptr<Device>> open_cpu_device(target::Target target, const DeviceOptions& options);

}  // namespace lpu::cpu
