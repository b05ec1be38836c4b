#include "runtime/cpu/cpu_device.h"

#include <chrono>
#include <optional>

#include "runtime/cpu/cpu_backend.h"
#include "runtime/device/device_support.h"
#include "runtime/device/program_access.h"

namespace lpu::cpu {
namespace {

class CpuDevice final : public Device {
 public:
  CpuDevice(target::Target t, const DeviceOptions& o, kernels::Isa isa) : t_(std::move(t)), options_(o), isa_(isa) {}

  std::string_view backend() const override { return "cpu"; }

  Status load(const Program& program, const Model& model) override {
    const program::Program& p = runtime::program_of(program);
    LPU_TRY(runtime::check_program_fits(p, t_, model), "loading the Program on the cpu backend");
    LPU_ASSIGN_OR_RETURN(CpuModel m, runtime::model_shape(model));
    LPU_ASSIGN_OR_RETURN(std::vector<runtime::ChipImage> img, runtime::build_sram_images(p, model, options_.progress));
    program_.emplace(program);
    backend_.reset();
    LPU_ASSIGN_OR_RETURN(backend_, CpuBackend::create(runtime::program_of(*program_), t_, std::move(m), options_.threads, isa_));
    backend_->set_images(std::move(img));
    return {};
  }

  Status write(const SramRegion& r, std::span<const std::uint8_t> bytes) override {
    if (!backend_) return failed_precondition("no Program loaded");
    return runtime::write_region(backend_->images(), r, bytes);
  }
  Status read(const SramRegion& r, std::span<std::uint8_t> out) const override {
    if (!backend_) return failed_precondition("no Program loaded");
    return runtime::read_region(backend_->images(), r, out);
  }
  Status set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value) override {
    if (!backend_) return failed_precondition("no Program loaded");
    backend_->set_register(chip, reg, value);
    return {};
  }
  Result<StepCounters> run(std::string_view name) override {
    if (!backend_) return failed_precondition("no Program loaded");
    const auto t0 = std::chrono::steady_clock::now();
    LPU_TRY(backend_->run(std::string(name)), "cpu");
    StepCounters c;
    c.variant = std::string(name);
    if (const program::Variant* v = runtime::program_of(*program_).find_variant(name)) {
      c.static_latency_cycles = v->static_latency_cycles;
    }
    c.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return c;
  }

 private:
  target::Target t_;
  DeviceOptions options_;
  kernels::Isa isa_;
  std::optional<Program> program_;
  std::unique_ptr<CpuBackend> backend_;
};

}  // namespace

Result<std::unique_ptr<Device>> open_cpu_device(target::Target target, const DeviceOptions& options,
                                                kernels::Isa isa) {
  if (options.threads < 0) return invalid_argument("threads " + std::to_string(options.threads) + " (expected >= 0)");
  if (options.timing_only) return invalid_argument("timing_only applies to the lpu-sim backend only");
  return std::unique_ptr<Device>(new CpuDevice(std::move(target), options, isa));
}

}  // namespace lpu::cpu
