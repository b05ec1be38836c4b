#include "tests/runtime/sim/sim_step.h"

#include <gtest/gtest.h>

#include <cstring>

#include "runtime/device/device_support.h"

namespace lpu::testing {

std::unique_ptr<SimRun> load_sim(const Model& model, const std::string& target_name,
                                 const compiler::CompileOptions& options) {
  auto run = std::make_unique<SimRun>();
  auto t = target::target_preset(target_name);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  if (!t.ok()) return nullptr;
  run->target = *t;
  auto input = compiler::model_input_from_file(model.path());
  EXPECT_TRUE(input.ok()) << input.status().to_string();
  if (!input.ok()) return nullptr;
  auto c = compiler::compile(*input, run->target, options);
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  if (!c.ok()) return nullptr;
  run->compiled = std::move(*c);
  auto shape = runtime::model_shape(model);
  EXPECT_TRUE(shape.ok()) << shape.status().to_string();
  if (!shape.ok()) return nullptr;
  auto s = sim::Simulator::create(run->compiled.program, run->target, *shape);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (!s.ok()) return nullptr;
  run->sim = std::move(*s);
  auto img = runtime::build_sram_images(run->compiled.program, model);
  EXPECT_TRUE(img.ok()) << img.status().to_string();
  if (!img.ok()) return nullptr;
  run->sim->set_images(*img);
  auto cb = cpu::CpuBackend::create(run->compiled.program, run->target, *shape, 2, kernels::active_isa());
  EXPECT_TRUE(cb.ok()) << cb.status().to_string();
  if (!cb.ok()) return nullptr;
  run->cpu = std::move(*cb);
  run->cpu->set_images(std::move(*img));
  auto io = runtime::step_io(run->compiled.program, static_cast<std::uint32_t>(model.config().n_vocab));
  EXPECT_TRUE(io.ok()) << io.status().to_string();
  if (!io.ok()) return nullptr;
  run->io = *io;
  return run;
}

namespace {

void write_rows(std::vector<runtime::ChipImage>& img, const std::vector<runtime::Region>& where,
                const std::vector<std::int32_t>& v) {
  for (const runtime::Region& r : where) {
    std::uint8_t* at = img[r.chip].pools[r.pool].at(r.offset, r.bytes);
    std::memcpy(at, v.data(), std::min<std::size_t>(r.bytes, 4 * v.size()));
  }
}

void write_rows(SimRun& run, const std::vector<runtime::Region>& where, const std::vector<std::int32_t>& v) {
  write_rows(run.sim->images(), where, v);
}

const program::Variant* decode_variant(const program::Program& p, const std::vector<int>& positions) {
  int top = 0;
  for (int pos : positions) top = std::max(top, pos + 1);
  const program::Variant* chosen = nullptr;
  for (const program::Variant& v : p.variants) {
    if (v.kind != program::VariantKind::kDecode || v.context < static_cast<std::uint32_t>(top)) continue;
    if (chosen == nullptr || v.context < chosen->context) chosen = &v;
  }
  return chosen;
}

std::vector<float> read_logits(std::vector<runtime::ChipImage>& img, const runtime::StepIo& io, std::size_t rows) {
  const std::uint32_t nv = io.n_vocab;
  std::vector<float> out(rows * nv);
  for (const runtime::LogitColumns& l : io.logits) {
    const std::uint8_t* base = img[l.buffer.chip].pools[l.buffer.pool].at(l.buffer.offset, l.buffer.bytes);
    for (std::size_t r = 0; r < rows; ++r) {
      std::memcpy(out.data() + r * nv + l.n0, base + (r * nv + l.n0) * 4, 4ull * (l.n1 - l.n0));
    }
  }
  return out;
}

}  // namespace

std::vector<float> cpu_decode(SimRun& run, const std::vector<TokenId>& tokens,
                              const std::vector<int>& positions) {
  const program::Variant* v = decode_variant(run.compiled.program, positions);
  EXPECT_NE(v, nullptr);
  if (v == nullptr) return {};
  write_rows(run.cpu->images(), run.io.tokens, std::vector<std::int32_t>(tokens.begin(), tokens.end()));
  write_rows(run.cpu->images(), run.io.positions, std::vector<std::int32_t>(positions.begin(), positions.end()));
  const Status st = run.cpu->run(v->name);
  EXPECT_TRUE(st.ok()) << st.to_string();
  if (!st.ok()) return {};
  return read_logits(run.cpu->images(), run.io, tokens.size());
}

std::vector<float> sim_decode(SimRun& run, const std::vector<TokenId>& tokens,
                              const std::vector<int>& positions, std::uint64_t* simulated,
                              std::uint64_t* static_latency) {
  const program::Variant* chosen = decode_variant(run.compiled.program, positions);
  EXPECT_NE(chosen, nullptr);
  if (chosen == nullptr) return {};
  write_rows(run, run.io.tokens, std::vector<std::int32_t>(tokens.begin(), tokens.end()));
  write_rows(run, run.io.positions, std::vector<std::int32_t>(positions.begin(), positions.end()));
  auto rep = run.sim->run(chosen->name, {});
  EXPECT_TRUE(rep.ok()) << rep.status().to_string();
  if (!rep.ok()) return {};
  if (simulated) *simulated = rep->simulated_cycles;
  if (static_latency) *static_latency = rep->static_latency_cycles;
  return read_logits(run.sim->images(), run.io, tokens.size());
}

}  // namespace lpu::testing

namespace lpu::testing {

Result<sim::StepReport> run_program(const program::Program& p, const Model& model,
                                    const target::Target& t, const std::string& variant,
                                    const std::vector<TokenId>& tokens,
                                    const std::vector<int>& positions, std::vector<float>* logits,
                                    bool timing_only) {
  sim::StepModel m;
  m.config = model.config();
  LPU_ASSIGN_OR_RETURN(std::unique_ptr<sim::Simulator> s, sim::Simulator::create(p, t, m));
  SimRun run;
  run.sim = std::move(s);
  if (!timing_only) {
    LPU_ASSIGN_OR_RETURN(std::vector<runtime::ChipImage> img, runtime::build_sram_images(p, model));
    run.sim->set_images(std::move(img));
    LPU_ASSIGN_OR_RETURN(run.io, runtime::step_io(p, static_cast<std::uint32_t>(model.config().n_vocab)));
    write_rows(run, run.io.tokens, std::vector<std::int32_t>(tokens.begin(), tokens.end()));
    write_rows(run, run.io.positions, std::vector<std::int32_t>(positions.begin(), positions.end()));
  }
  sim::SimOptions o;
  o.timing_only = timing_only;
  LPU_ASSIGN_OR_RETURN(sim::StepReport rep, run.sim->run(variant, o));
  if (logits != nullptr && !timing_only) *logits = read_logits(run.sim->images(), run.io, tokens.size());
  return rep;
}

}  // namespace lpu::testing
