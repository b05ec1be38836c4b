#include "include/lpu/program.h"

#include <cstdio>

#include "runtime/device/program_access.h"

namespace lpu {

Program::Program(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Program> Program::load(const std::string& path) {
  LPU_ASSIGN_OR_RETURN(program::Program p, program::read_program(path));
  return runtime::make_program(std::move(p));
}

Status Program::save(const std::string& path) const { return program::write_program(impl_->program, path); }

const std::string& Program::hash() const {
  std::call_once(impl_->hash_once, [this] { impl_->hash = program::program_hash(impl_->program); });
  return impl_->hash;
}
const std::string& Program::model_hash() const { return impl_->program.meta.model_hash; }
const std::string& Program::target_name() const { return impl_->program.meta.target_name; }
const std::string& Program::target_hash() const { return impl_->program.meta.target_hash; }
std::uint32_t Program::group_size() const { return impl_->program.meta.group; }
const std::string& Program::kv() const { return impl_->program.meta.kv; }

std::string Program::rotation() const {
  const program::Rotation& r = impl_->program.rotation;
  return r.enabled() ? r.method + " (seed " + std::to_string(r.seed) + ")" : "none";
}

std::string Program::weight_transforms() const {
  const program::Program& p = impl_->program;
  if (!p.smoothing.enabled()) return p.rotation.enabled() ? p.rotation.method : "none";
  return p.rotation.enabled() ? p.smoothing.method + "+" + p.rotation.method : p.smoothing.method;
}

std::string Program::smoothing() const {
  const program::Smoothing& s = impl_->program.smoothing;
  if (!s.enabled()) return "none";
  char alpha[32];
  std::snprintf(alpha, sizeof alpha, "%g", static_cast<double>(s.alpha));
  return s.method + " alpha " + alpha + ", calibrated on " + std::to_string(s.calibration_tokens) +
         " tokens (sha256 " + s.calibration_hash + ")";
}
std::uint32_t Program::slots() const { return impl_->program.meta.slots; }
std::uint32_t Program::chips() const { return impl_->program.meta.chips; }
double Program::clock_hz() const { return impl_->program.meta.clock_hz; }

std::uint64_t Program::decode_latency_cycles() const {
  std::uint64_t cycles = 0;
  std::uint32_t context = 0;
  for (const program::Variant& v : impl_->program.variants) {
    if (v.kind == program::VariantKind::kDecode && v.context >= context) {
      context = v.context;
      cycles = v.static_latency_cycles;
    }
  }
  return cycles;
}

std::vector<ProgramVariant> Program::variants() const {
  std::vector<ProgramVariant> out;
  for (const program::Variant& v : impl_->program.variants) {
    out.push_back({v.name, v.kind == program::VariantKind::kPrefill, v.context, v.rows,
                   v.last_row_logits ? 1u : v.rows, v.static_latency_cycles});
  }
  return out;
}

namespace runtime {

Program make_program(program::Program p) {
  auto impl = std::make_shared<Program::Impl>();
  impl->program = std::move(p);
  return internal::Access::wrap<Program>(std::shared_ptr<const Program::Impl>(std::move(impl)));
}

}  // namespace runtime
}  // namespace lpu
