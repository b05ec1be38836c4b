#include "runtime/sim/sim_device.h"

#include <optional>

#include "runtime/device/device_support.h"
#include "runtime/device/program_access.h"

namespace lpu::sim {
namespace {

class SimDevice final : public Device {
 public:
  SimDevice(target::Target t, const DeviceOptions& o) : t_(std::move(t)), options_(o) {}

  std::string_view backend() const override { return "lpu-sim"; }

  Status load(const Program& program, const Model& model) override {
    const program::Program& p = runtime::program_of(program);
    LPU_TRY(runtime::check_program_fits(p, t_, model), "loading the Program on the simulator");
    LPU_ASSIGN_OR_RETURN(StepModel m, runtime::model_shape(model));
    program_.emplace(program);
    sim_.reset();
    LPU_ASSIGN_OR_RETURN(sim_, Simulator::create(runtime::program_of(*program_), t_, std::move(m)));
    if (!options_.timing_only) {
      LPU_ASSIGN_OR_RETURN(std::vector<runtime::ChipImage> img, runtime::build_sram_images(p, model, options_.progress));
      sim_->set_images(std::move(img));
    }
    return {};
  }

  Status write(const SramRegion& r, std::span<const std::uint8_t> bytes) override {
    LPU_TRY(ready(), "lpu-sim");
    return runtime::write_region(sim_->images(), r, bytes);
  }
  Status read(const SramRegion& r, std::span<std::uint8_t> out) const override {
    LPU_TRY(ready(), "lpu-sim");
    return runtime::read_region(sim_->images(), r, out);
  }
  Status set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value) override {
    if (!sim_) return failed_precondition("no Program loaded");
    sim_->set_register(chip, reg, value);
    return {};
  }
  Result<StepCounters> run(std::string_view name) override {
    if (!sim_) return failed_precondition("no Program loaded");
    SimOptions o;
    o.timing_only = options_.timing_only;
    LPU_ASSIGN_OR_RETURN(StepReport rep, sim_->run(std::string(name), o));
    StepCounters c;
    c.variant = rep.variant;
    c.cycles = rep.simulated_cycles;
    c.static_latency_cycles = rep.static_latency_cycles;
    c.host_seconds = rep.host_seconds;
    c.energy_j = rep.energy_j;
    for (int u = 0; u < isa::kUnitCount; ++u) {
      if (rep.units[static_cast<std::size_t>(u)] == 0) continue;
      c.unit_busy_cycles.emplace_back(std::string(isa::unit_name(static_cast<isa::Unit>(u))),
                                      rep.busy[static_cast<std::size_t>(u)]);
    }
    last_ = std::move(rep);
    return c;
  }

  const StepReport* last() const { return last_ ? &*last_ : nullptr; }

 private:
  Status ready() const {
    if (!sim_) return failed_precondition("no Program loaded");
    if (options_.timing_only) return failed_precondition("a timing-only simulator holds no data");
    return {};
  }

  target::Target t_;
  DeviceOptions options_;
  std::optional<Program> program_;
  std::unique_ptr<Simulator> sim_;
  std::optional<StepReport> last_;
};

}  // namespace

Result<std::unique_ptr<Device>> open_sim_device(target::Target target, const DeviceOptions& options) {
  return std::unique_ptr<Device>(new SimDevice(std::move(target), options));
}

const StepReport* last_report(const Device& device) {
  const auto* d = dynamic_cast<const SimDevice*>(&device);
  return d ? d->last() : nullptr;
}

}  // namespace lpu::sim
