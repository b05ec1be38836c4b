#include "include/lpu/device.h"

#include "lib/target/target.h"
#include "runtime/cpu/cpu_device.h"
#include "runtime/sim/sim_device.h"

namespace lpu {

std::vector<std::string> device_backends() { return {"cpu", "lpu-sim"}; }

Result<std::unique_ptr<Device>> open_device(std::string_view backend, const std::string& target,
                                            const DeviceOptions& options) {
  LPU_ASSIGN_OR_RETURN(target::Target t, target::resolve_target(target));
  if (backend == "cpu") return cpu::open_cpu_device(std::move(t), options);
  if (backend == "lpu-sim") return sim::open_sim_device(std::move(t), options);
  std::string known;
  for (const std::string& b : device_backends()) known += (known.empty() ? "" : ", ") + b;
  return invalid_argument("backend '" + std::string(backend) + "' (expected one of: " + known + ")");
}

}  // namespace lpu
