// lpu compile MODEL.gguf | --shape NAME --target T [...]: compiles a model
// into a Program and prints the report; lpu disasm PROGRAM prints one.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "examples/lpu/command.h"
#include "include/lpu/model.h"
#include "lib/compiler/cache.h"
#include "lib/compiler/compiler.h"
#include "lib/compiler/report.h"
#include "lib/core/sha256.h"
#include "lib/program/container.h"
#include "lib/program/program.h"
#include "lib/compiler/model_transform.h"
#include "lib/report/sram_map.h"
#include "lib/report/trace_json.h"
#include "lib/target/target.h"

namespace lpu::cli {
namespace {

struct CompileCliOptions {
  std::string model;
  std::string shape;
  std::string target = "tsp-v1";
  compiler::CompileOptions options;
  std::string out;
  bool json = false;
  bool explain = false;
  bool no_smoothing = false;
  bool no_rotation = false;
  std::string trace;
  std::string sram_map;
};

Status write_text(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return invalid_argument(path + ": cannot open for writing");
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return data_loss(path + ": write failed");
  return {};
}

Status run_compile(const CompileCliOptions& o) {
  if (o.model.empty() == o.shape.empty()) {
    return invalid_argument("give a MODEL.gguf or --shape NAME (exactly one)");
  }
  LPU_ASSIGN_OR_RETURN(target::Target t, target::resolve_target(o.target));
  compiler::ModelInput m;
  if (!o.shape.empty()) {
    LPU_ASSIGN_OR_RETURN(ModelConfig c, shape_preset(o.shape));
    m = compiler::model_input_from_config(c);
  } else {
    LPU_ASSIGN_OR_RETURN(m, compiler::model_input_from_file(o.model));
    LPU_ASSIGN_OR_RETURN(Model model, Model::load(o.model));
    const compiler::TransformRequest request{!o.no_smoothing, !o.no_rotation,
                                             o.options.group != 0 ? o.options.group : t.default_group()};
    const std::vector<TokenId> calibration = compiler::request_transforms(model, request, m);
    LPU_TRY(compiler::calibrate_transforms(model, request, calibration, m), o.model);
  }
  LPU_ASSIGN_OR_RETURN(compiler::Compiled c, compiler::compile(m, t, o.options, terminal_progress_bar("lpu compile")));
  // One serialisation for the hash, the output file and the cache.
  std::vector<std::uint8_t> file;
  std::string hash;
  {
    const std::vector<std::uint8_t> raw = program::serialize(c.program);
    hash = sha256_hex(raw);
    file = program::compress_program(raw);
  }
  if (!o.out.empty()) LPU_TRY(program::write_program_bytes(file, o.out), "");
  // Later runs of the same inputs load this instead of compiling.
  if (const Status cached = compiler::store_cached_bytes(m, t, o.options, file); !cached.ok()) {
    std::fprintf(stderr, "lpu: note: the Program was not cached: %s\n", cached.message().c_str());
  }
  if (!o.trace.empty()) {
    LPU_TRY(write_text(o.trace, report::trace_json(c.program, t, compiler::headline_variant(c))), "");
  }
  if (!o.sram_map.empty()) LPU_TRY(write_text(o.sram_map, report::sram_map_html(c.program, t)), "");
  if (o.json) {
    std::cout << compiler::report_json(c, t) << "\n";
  } else {
    std::cout << compiler::report_text(c, t);
    if (o.explain) std::cout << compiler::explain_text(c, t);
    std::cout << "program " << hash << " (" << file.size() << " bytes)"
              << (o.out.empty() ? "" : " -> " + o.out) << "\n";
  }
  return {};
}

Status run_disasm(const std::string& path) {
  LPU_ASSIGN_OR_RETURN(program::Program p, program::read_program(path));
  std::cout << program::disassemble(p);
  return {};
}

}  // namespace

void add_compile_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<CompileCliOptions>();
  CLI::App* cmd = app.add_subcommand("compile", "Compile a model for an LPU target into a Program and report its static latency");
  cmd->add_option("model", o->model, "GGUF model file (or use --shape)");
  cmd->add_option("--shape", o->shape, "Config-only shape preset instead of a file (llama-2-7b, llama-2-70b, llama-3-8b, llama-3-70b, mixtral-8x7b)");
  cmd->add_option("--target", o->target, "Target preset name or JSON file (see lpu targets)");
  cmd->add_option("--chips", o->options.chips, "Chips of the system (default: the least that fits)");
  cmd->add_option("--slots", o->options.slots, "Batch slots (rows of a decode step)");
  cmd->add_option("--ctx", o->options.max_context, "Largest context bucket (default: the model's training context)");
  cmd->add_option("--group", o->options.group, "Group size G (default: the target's K tile)");
  cmd->add_option("--kv", o->options.kv, "KV cache precision: int8 or f16 (default: the target's)");
  cmd->add_option("--prefill-chunk", o->options.prefill_chunk, "Tokens per prefill chunk (default: the target's, 64 or 128 on cpu-host; less if activations do not fit)");
  cmd->add_flag("--no-smoothing", o->no_smoothing, "Do not fold activation smoothing into the weights (default: calibrate it and record it in the Program)");
  cmd->add_flag("--no-rotation", o->no_rotation, "Do not rotate the residual stream at import (default: a Hadamard rotation when calibration finds it lowers the int8 error; recorded in the Program)");
  cmd->add_flag("--all-logits", o->options.all_logits, "Prefill chunks write every row's logits (to score a text; default: the last row's)");
  cmd->add_option("-o,--out", o->out, "Write the Program to this file");
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->add_flag("--explain", o->explain, "Print per op which resource binds it");
  cmd->add_option("--trace", o->trace, "Write a Chrome/Perfetto trace of the headline decode step");
  cmd->add_option("--sram-map", o->sram_map, "Write an HTML map of every chip's SRAM");
  cmd->callback([o, &action] { action = [o] { return run_compile(*o); }; });

  auto path = std::make_shared<std::string>();
  CLI::App* dis = app.add_subcommand("disasm", "Print a Program as text (header, layout, instructions)");
  dis->add_option("program", *path, "Program file")->required();
  dis->callback([path, &action] { action = [path] { return run_disasm(*path); }; });
}

}  // namespace lpu::cli
