// lpu sim PROGRAM | (MODEL | --shape NAME) --target T [...]: runs one step
// of a Program on the LPU simulator and prints what it measured: simulated
// against static cycles, utilisation per unit, bytes per pool and link,
// energy per token and the ops that bound the step.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "examples/lpu/command.h"
#include "include/lpu/model.h"
#include "lib/compiler/compiler.h"
#include "lib/gguf/dequantize.h"
#include "lib/model/model_access.h"
#include "lib/program/program.h"
#include "lib/report/trace_json.h"
#include "lib/target/target.h"
#include "runtime/device/sram_image.h"
#include "runtime/device/step_io.h"
#include "runtime/sim/simulator.h"

namespace lpu::cli {
namespace {

struct SimCliOptions {
  std::string input;  // a Program file or a model
  std::string shape;
  std::string target;
  std::uint32_t chips = 0;
  std::uint32_t slots = 1;
  std::uint32_t context = 0;
  bool timing_only = false;
  bool json = false;
  std::string trace;
  std::string variant;
};

bool is_program_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char magic[7] = {};
  const std::size_t n = std::fread(magic, 1, 7, f);
  std::fclose(f);
  return n == 7 && std::string(magic, 7) == "LPUPRGZ";
}

// The decode step at the largest context bucket (what lpu compile reports).
std::string headline(const program::Program& p) {
  const program::Variant* best = nullptr;
  for (const program::Variant& v : p.variants) {
    if (v.kind == program::VariantKind::kDecode && (best == nullptr || v.context >= best->context)) best = &v;
  }
  return best ? best->name : p.variants.front().name;
}

std::string summary_text(const sim::StepReport& r, const program::Program& p, const target::Target& t) {
  std::ostringstream os;
  const double us = static_cast<double>(r.simulated_cycles) / t.clock_hz * 1e6;
  os << "variant " << r.variant << " on " << p.meta.chips << " chip(s) of " << t.name << ": "
     << r.instructions << " instructions\n";
  os << "simulated " << r.simulated_cycles << " cycles (" << us << " us), static latency "
     << r.static_latency_cycles << (r.simulated_cycles == r.static_latency_cycles ? " (equal)" : " (MISMATCH)")
     << "\n";
  os << "host time " << r.host_seconds << " s\n";
  os << "utilisation:";
  for (int u = 0; u < isa::kUnitCount; ++u) {
    const auto i = static_cast<std::size_t>(u);
    if (r.units[i] == 0 || r.simulated_cycles == 0) continue;
    os << " " << isa::unit_name(static_cast<isa::Unit>(u)) << " "
       << 100.0 * static_cast<double>(r.busy[i]) / (static_cast<double>(r.units[i]) * r.simulated_cycles) << "%";
  }
  os << "\nbytes:";
  for (std::size_t q = 0; q < t.pools.size(); ++q) {
    os << " " << t.pools[q].name << " read " << r.pool_read_bytes[q] << " written " << r.pool_write_bytes[q] << ";";
  }
  os << " links " << r.link_bytes << "\n";
  os << "energy " << r.energy_j << " J per step\n";
  std::vector<sim::OpSummary> ops = r.ops;
  std::sort(ops.begin(), ops.end(), [](const sim::OpSummary& a, const sim::OpSummary& b) {
    return a.end - a.start > b.end - b.start;
  });
  os << "longest ops (span, busiest resource on its busiest chip):\n";
  for (std::size_t i = 0; i < ops.size() && i < 8; ++i) {
    const sim::OpSummary& o = ops[i];
    os << "  " << (o.op < p.ops.size() ? p.ops[o.op].name : "?") << ": " << o.end - o.start << " cycles, "
       << o.resource << " busy " << o.busy_cycles << "\n";
  }
  return os.str();
}

Status run_sim(const SimCliOptions& o) {
  if (o.input.empty() == o.shape.empty()) return invalid_argument("give a PROGRAM, a MODEL.gguf or --shape NAME (exactly one)");
  std::optional<Model> model;
  program::Program p;
  target::Target t;
  if (!o.input.empty() && is_program_file(o.input)) {
    LPU_ASSIGN_OR_RETURN(p, program::read_program(o.input));
    LPU_ASSIGN_OR_RETURN(t, target::resolve_target(o.target.empty() ? p.meta.target_name : o.target));
  } else {
    if (o.target.empty()) return invalid_argument("--target is needed to compile a model");
    LPU_ASSIGN_OR_RETURN(t, target::resolve_target(o.target));
    compiler::ModelInput m;
    if (!o.shape.empty()) {
      LPU_ASSIGN_OR_RETURN(ModelConfig c, shape_preset(o.shape));
      m = compiler::model_input_from_config(c);
    } else {
      LPU_ASSIGN_OR_RETURN(m, compiler::model_input_from_file(o.input));
    }
    compiler::CompileOptions co;
    co.chips = o.chips;
    co.slots = o.slots;
    co.max_context = o.context;
    LPU_ASSIGN_OR_RETURN(compiler::Compiled c, compiler::compile(m, t, co));
    p = std::move(c.program);
  }
  const bool functional = !o.timing_only && !o.input.empty() && o.shape.empty() && !is_program_file(o.input);
  sim::StepModel sm;
  if (functional) {
    LPU_ASSIGN_OR_RETURN(Model mdl, Model::load(o.input));
    sm.config = mdl.config();
    model.emplace(std::move(mdl));
  } else if (!o.shape.empty()) {
    LPU_ASSIGN_OR_RETURN(sm.config, shape_preset(o.shape));
  }
  LPU_ASSIGN_OR_RETURN(std::unique_ptr<sim::Simulator> s, sim::Simulator::create(p, t, sm));
  if (functional) {
    LPU_ASSIGN_OR_RETURN(std::vector<runtime::ChipImage> img, runtime::build_sram_images(p, *model));
    s->set_images(std::move(img));
    // One token (id 1) per row, each at position 0.
    LPU_ASSIGN_OR_RETURN(runtime::StepIo io, runtime::step_io(p, static_cast<std::uint32_t>(sm.config.n_vocab)));
    for (const auto* where : {&io.tokens, &io.positions}) {
      for (const runtime::Region& r : *where) {
        std::uint8_t* at = s->images()[r.chip].pools[r.pool].at(r.offset, r.bytes);
        std::fill(at, at + r.bytes, 0);
        if (where == &io.tokens) {
          for (std::uint64_t i = 0; i + 4 <= r.bytes; i += 4) at[i] = 1;
        }
      }
    }
  }
  sim::SimOptions so;
  so.timing_only = !functional;
  const std::string variant = o.variant.empty() ? headline(p) : o.variant;
  LPU_ASSIGN_OR_RETURN(sim::StepReport r, s->run(variant, so));
  if (!o.trace.empty()) {
    // The simulator ran every instruction at its recorded cycle (it refuses
    // a Program otherwise), so the Program's schedule is what each unit did.
    std::size_t vi = 0;
    while (p.variants[vi].name != variant) ++vi;
    const std::string json = report::trace_json(p, t, vi);
    FILE* f = std::fopen(o.trace.c_str(), "wb");
    if (f == nullptr) return invalid_argument(o.trace + ": cannot open for writing (--trace)");
    const bool ok = std::fwrite(json.data(), 1, json.size(), f) == json.size();
    if (std::fclose(f) != 0 || !ok) return data_loss(o.trace + ": write failed");
  }
  const program::Variant* v = p.find_variant(variant);
  const double tokens = v != nullptr && v->kind == program::VariantKind::kDecode ? v->rows : (v ? v->rows : 1);
  if (o.json) {
    nlohmann::json util = nlohmann::json::object();
    for (int u = 0; u < isa::kUnitCount; ++u) {
      const auto i = static_cast<std::size_t>(u);
      if (r.units[i] == 0 || r.simulated_cycles == 0) continue;
      util[std::string(isa::unit_name(static_cast<isa::Unit>(u)))] =
          static_cast<double>(r.busy[i]) / (static_cast<double>(r.units[i]) * r.simulated_cycles);
    }
    nlohmann::json j = {{"variant", r.variant},
                        {"mode", functional ? "functional" : "timing-only"},
                        {"chips", p.meta.chips},
                        {"instructions", r.instructions},
                        {"simulated_cycles", r.simulated_cycles},
                        {"static_latency_cycles", r.static_latency_cycles},
                        {"host_seconds", r.host_seconds},
                        {"energy_per_step_j", r.energy_j},
                        {"energy_per_token_j", r.energy_j / std::max(1.0, tokens)},
                        {"link_bytes", r.link_bytes},
                        {"utilisation", util}};
    std::cout << j.dump() << "\n";
  } else {
    std::cout << summary_text(r, p, t);
    std::cout << "energy per token " << r.energy_j / std::max(1.0, tokens) << " J\n";
  }
  return {};
}

}  // namespace

void add_sim_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<SimCliOptions>();
  CLI::App* cmd = app.add_subcommand("sim", "Run one step of a Program on the LPU simulator and report cycles, utilisation, energy");
  cmd->add_option("input", o->input, "Program file, or GGUF model to compile (functional unless --timing-only)");
  cmd->add_option("--shape", o->shape, "Config-only shape preset (timing-only): llama-2-7b, llama-2-70b, mixtral-8x7b, ...");
  cmd->add_option("--target", o->target, "Target preset or JSON file (default for a Program: the one it names)");
  cmd->add_option("--chips", o->chips, "Chips to compile for (default: the least that fit)");
  cmd->add_option("--slots", o->slots, "Batch slots to compile for");
  cmd->add_option("--ctx", o->context, "Largest context bucket to compile for");
  cmd->add_flag("--timing-only", o->timing_only, "Check and time without computing data");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->add_option("--trace", o->trace, "Write a Chrome/Perfetto trace of the step");
  cmd->add_option("--variant", o->variant, "Step variant (default: decode at the largest bucket)");
  cmd->callback([o, &action] { action = [o] { return run_sim(*o); }; });
}

}  // namespace lpu::cli
