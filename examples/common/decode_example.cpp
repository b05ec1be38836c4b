#include "decode_example.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <lpu/lpu.h>

namespace lpu::examples {
namespace {

struct Options {
  std::string model;
  std::string prompt = "Once upon a time";
  int tokens = 64;
  std::string backend = "cpu";
  std::string target;
  std::uint32_t chips = 0;
  int threads = 0;
  std::uint32_t context = 512;
  SamplingOptions sampling;
};

int fail(const std::string& name, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", name.c_str(), s.to_string().c_str());
  return 1;
}

// The synthetic model in the temporary directory, written on first use.
Result<std::string> synthetic(const std::string& preset) {
  const std::string path = (std::filesystem::temp_directory_path() / ("lpu-example-" + preset + ".gguf")).string();
  if (std::filesystem::exists(path)) return path;
  LPU_ASSIGN_OR_RETURN(SynthOptions o, synth_preset(preset));
  LPU_TRY(write_synthetic_model(o, path), "");
  return path;
}

int run(const Options& o, const std::string& name, const std::string& preset) {
  std::string path = o.model;
  if (path.empty()) {
    auto p = synthetic(preset);
    if (!p.ok()) return fail(name, p.status());
    path = *p;
    std::fprintf(stderr, "%s: no model given; using the synthetic %s model %s\n", name.c_str(), preset.c_str(), path.c_str());
  }
  auto model = Model::load(path);
  if (!model.ok()) return fail(name, model.status());
  auto tokenizer = model->tokenizer();
  if (!tokenizer.ok()) return fail(name, tokenizer.status());
  EngineOptions eo;
  eo.backend = o.backend;
  eo.target = o.target;
  eo.chips = o.chips;
  eo.threads = o.threads;
  eo.max_context = o.context;
  auto engine = Engine::create(*model, eo);
  if (!engine.ok()) return fail(name, engine.status());
  Request r;
  auto prompt = tokenizer->encode(o.prompt, {.add_bos = tokenizer->default_add_bos()});
  if (!prompt.ok()) return fail(name, prompt.status());
  r.prompt = *prompt;
  r.max_tokens = o.tokens;
  r.sampling = o.sampling;
  auto id = (*engine)->submit(r, [](const TokenEvent& e) {
    std::fwrite(e.text.data(), 1, e.text.size(), stdout);
    std::fflush(stdout);
  });
  if (!id.ok()) return fail(name, id.status());
  if (Status s = (*engine)->run(); !s.ok()) return fail(name, s);
  auto out = (*engine)->output(*id);
  const Engine::Stats st = (*engine)->stats();
  std::printf("\n");
  std::fprintf(stderr, "%s: %zu tokens (%s) in %.2f s of steps: %.1f tokens/s on the %s backend\n", name.c_str(),
               out->tokens.size(), stop_reason_name(out->stop), st.step_seconds,
               out->tokens.size() / std::max(st.step_seconds, 1e-9), o.backend.c_str());
  const Program& p = (*engine)->program();
  if (p.target_name() != "cpu-host") {
    // The compiler's per-token guarantee on the target.
    const std::uint64_t cycles = p.decode_latency_cycles();
    const double us = static_cast<double>(cycles) / p.clock_hz() * 1e6;
    std::fprintf(stderr, "%s: on %s (%u chips): static latency %llu cycles = %.2f us per token, %.0f tokens/s predicted\n",
                 name.c_str(), p.target_name().c_str(), p.chips(), static_cast<unsigned long long>(cycles), us, 1e6 / us);
  }
  return 0;
}

}  // namespace

int decode_main(int argc, char** argv, const std::string& name, const std::string& default_preset) {
  Options o;
  CLI::App app{"Streams a decode of MODEL (default: the synthetic " + default_preset +
               " model) through the lpu Engine, on the CPU backend or the LPU simulator, and ends with tokens/s "
               "and, for an LPU target, the static per-token latency.", name};
  app.add_option("model", o.model, "GGUF model (default: a synthetic " + default_preset + " model)");
  app.add_option("-p,--prompt", o.prompt, "Prompt text");
  app.add_option("-n,--tokens", o.tokens, "Tokens to generate at most");
  app.add_option("--backend", o.backend, "cpu or lpu-sim")->check(CLI::IsMember({"cpu", "lpu-sim"}));
  app.add_option("--target", o.target, "Target preset or JSON (default: cpu-host for cpu, hmp-217 for lpu-sim)");
  app.add_option("--chips", o.chips, "Chips to compile for (default: the least that fit)");
  app.add_option("--threads", o.threads, "CPU backend threads (default: all)");
  app.add_option("--ctx", o.context, "Context of the compiled Program");
  app.add_option("--temperature", o.sampling.temperature, "0 (the default) is greedy");
  app.add_option("--seed", o.sampling.seed, "Seed of the draws: the same seed gives the same text on every backend");
  app.add_option("--top-k", o.sampling.top_k, "Keep the k most likely tokens");
  app.add_option("--top-p", o.sampling.top_p, "Keep the most likely tokens reaching probability p");
  app.add_option("--min-p", o.sampling.min_p, "Drop tokens below min-p times the most likely");
  app.add_option("--repeat-penalty", o.sampling.repeat_penalty, "Penalise the last 64 tokens (1: off)");
  CLI11_PARSE(app, argc, argv);
  return run(o, name, default_preset);
}

}  // namespace lpu::examples
