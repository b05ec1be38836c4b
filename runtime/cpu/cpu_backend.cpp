#include "runtime/cpu/cpu_backend.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <thread>

#include "runtime/cpu/executor.h"
#include "runtime/cpu/step_plan.h"

namespace lpu::cpu {

CpuBackend::CpuBackend(const program::Program& p, const target::Target& t, CpuModel model, int threads,
                       const kernels::FloatKernels& fp, const kernels::Int8Kernels& i8)
    : p_(p), t_(t), model_(std::move(model)),
      pool_(std::make_unique<kernels::ThreadPool>(threads)),
      state_(std::make_unique<ExecState>(p, model_, fp, i8)) {
  state_->planes.resize(std::size_t{p.meta.chips} * t.matrix.planes);
  for (auto& pl : state_->planes) pl.slots.resize(t.matrix.weight_buffer_tiles);
}

CpuBackend::~CpuBackend() = default;

Result<std::unique_ptr<CpuBackend>> CpuBackend::create(const program::Program& p,
                                                       const target::Target& t, CpuModel model,
                                                       int threads, kernels::Isa isa) {
  if (target::target_hash(t) != p.meta.target_hash) {
    return failed_precondition("the Program was compiled for target '" + p.meta.target_name +
                               "' (hash " + p.meta.target_hash + "), not '" + t.name + "'");
  }
  std::vector<std::uint64_t> caps;
  for (const target::Pool& pool : t.pools) caps.push_back(pool.capacity_bytes);
  LPU_TRY(program::validate(p, caps, "program"), "loading the Program into the CPU backend");
  if (threads < 0) return invalid_argument("threads " + std::to_string(threads) + " (expected >= 0)");
  const kernels::FloatKernels* fp = kernels::float_kernels_for(isa);
  const kernels::Int8Kernels* i8 = kernels::int8_kernels_for(isa);
  if (fp == nullptr || i8 == nullptr) {
    return failed_precondition(std::string("the CPU backend: this CPU cannot run the ") +
                               std::string(kernels::isa_name(isa)) + " kernels");
  }
  const int n = threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : threads;
  std::unique_ptr<CpuBackend> b(new CpuBackend(p, t, std::move(model), n, *fp, *i8));
  // Every variant's plan up front (the first step of each would pay it).
  std::vector<StepPlan> plans(p.variants.size());
  const bool concurrent = b->pool_->threads() > 1;
  tbb::parallel_for(std::size_t{0}, p.variants.size(),
                    [&](std::size_t i) { plans[i] = make_step_plan(p, p.variants[i], t, concurrent); });
  for (std::size_t i = 0; i < plans.size(); ++i) {
    b->plans_[p.variants[i].name] = std::make_unique<StepPlan>(std::move(plans[i]));
  }
  return b;
}

void CpuBackend::set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value) {
  state_->regs[reg_key(chip, reg)] = value;
}

Status CpuBackend::run(const std::string& name) {
  const program::Variant* v = p_.find_variant(name);
  if (v == nullptr) return not_found("the Program has no variant '" + name + "'");
  if (images_.size() != p_.meta.chips) return failed_precondition("the CPU backend has no SRAM images loaded");
  const auto found = plans_.find(name);
  if (found == plans_.end()) return internal_error("no plan for variant '" + name + "'");
  const StepPlan* plan = found->second.get();
  // Runs order[b, e) on `step`, whole-matmul runs as one call each.
  auto run_range = [&](Step& step, std::size_t b, std::size_t e) -> Status {
    for (std::size_t i = b; i < e;) {
      if (const std::uint32_t f = plan->fast_at[i]; f != kNoRun) {
        const FastMatmul& m = plan->fast[f].second;
        const Instruction* sm = m.limit == PositionLimit::kNone ? nullptr : &v->streams[m.softmax.chip][m.softmax.index];
        LPU_TRY(step.fast_matmul(m, sm), "");
        i = plan->fast[f].first.second;
        continue;
      }
      const Ref& r = plan->order[i];
      if (const std::uint32_t s = plan->quantize_limit[i]; s != kNoRun) {
        const Ref& sr = plan->softmaxes[s];
        LPU_TRY(step.quantize_to_position(r, v->streams[r.chip][r.index], v->streams[sr.chip][sr.index]), "");
        ++i;
        continue;
      }
      LPU_TRY(step.run(r, v->streams[r.chip][r.index]), "");
      ++i;
    }
    return {};
  };
  Step step(p_, t_, model_, images_, *state_, pool_.get());
  std::size_t done = 0;
  for (const ParallelOp& par : plan->parallel) {
    LPU_TRY(run_range(step, done, par.begin), "variant " + name);
    std::vector<Status> st(par.groups.size());
    pool_->run(par.groups.size(), [&](std::size_t g) {
      Step local(p_, t_, model_, images_, *state_, nullptr);
      for (const auto& [ub, ue] : par.groups[g]) {
        st[g] = run_range(local, ub, ue);
        if (!st[g].ok()) return;
      }
    });
    for (const Status& s : st) LPU_TRY(s, "variant " + name);
    done = par.end;
  }
  LPU_TRY(run_range(step, done, plan->order.size()), "variant " + name);
  return {};
}

}  // namespace lpu::cpu
