// lpu_backend_bench: end-to-end speed of the two backends, as JSON.
//  - the CPU backend on a cpu-host Program, at --group G on --threads:
//    decode tokens/s (greedy over a fixed token stream after an 8-token
//    prompt) and prefill tokens/s (a prompt of --prefill tokens, after one
//    unmeasured prefill that first touches every buffer), each the
//    median of --reps runs, and decode as a fraction of the read probe
//    (weight bytes per token x tokens/s / GB/s) and prefill as a fraction
//    of the VNNI probe (2 x MACs per token x tokens/s / GOP/s); the same
//    for the Program compiled without the weight transforms, in alternating
//    reps, and the ratios (the transforms must cost nothing at run time);
//  - the LPU simulator's host time: functional decode steps of the model
//    on --sim-target, and timing-only steps of config-only shapes.
// Usage: lpu_backend_bench --model PATH [--model PATH...] [--threads 2]
//          [--tokens 128] [--prefill 256] [--reps 3] [--group 256]
//          [--sim-target hmp-217] [--shape llama-2-70b@tsp-v1:576 ...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../roofline/probes.h"
#include "include/lpu/device.h"
#include "include/lpu/model.h"
#include "include/lpu/program.h"
#include "lib/compiler/compiler.h"
#include "lib/compiler/report.h"
#include "lib/model/model_access.h"
#include "runtime/device/sequence_runner.h"
#include "runtime/sim/simulator.h"

namespace lpu::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::vector<std::string> models;
  std::vector<std::string> shapes;  // NAME@TARGET:CHIPS
  int threads = 2;
  int tokens = 128;
  int prefill = 256;
  int reps = 3;
  int group = 256;
  std::string sim_target = "hmp-217";
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::vector<TokenId> stream(int n, int vocab) {
  std::vector<TokenId> t(static_cast<std::size_t>(n));
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& v : t) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v = static_cast<TokenId>(3 + x % static_cast<std::uint64_t>(vocab - 3));
  }
  return t;
}

// Seconds of one pass of `forward` over a prompt of `prompt` tokens then
// `decode` single-token steps; returns {prefill s, decode s}.
template <typename Forward>
std::pair<double, double> time_pass(Forward&& forward, const std::vector<TokenId>& toks, int prompt, int decode) {
  const auto t0 = Clock::now();
  forward(std::span(toks.data(), static_cast<std::size_t>(prompt)));
  const auto t1 = Clock::now();
  for (int i = 0; i < decode; ++i) forward(std::span(&toks[static_cast<std::size_t>(prompt + i)], 1));
  const auto t2 = Clock::now();
  return {std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count()};
}

std::uint64_t weight_bytes(const Model& m) {
  std::uint64_t b = 0;
  const ModelConfig& c = m.config();
  // int8 bytes per weight of every matrix a token reads (+ scales, small),
  // the lm_head included; experts: the k used.
  const std::uint64_t d = static_cast<std::uint64_t>(c.n_embd), ff = static_cast<std::uint64_t>(c.n_ff);
  const std::uint64_t hd = static_cast<std::uint64_t>(c.head_dim);
  const std::uint64_t attn = d * hd * static_cast<std::uint64_t>(c.n_head + 2 * c.n_head_kv) + d * hd * static_cast<std::uint64_t>(c.n_head);
  const std::uint64_t experts = c.n_expert > 0 ? static_cast<std::uint64_t>(c.n_expert_used) : 1;
  b = static_cast<std::uint64_t>(c.n_layer) * (attn + 3 * d * ff * experts) + d * static_cast<std::uint64_t>(c.n_vocab);
  return b;
}

nlohmann::json bench_model(const std::string& path, const Args& a, const ProbeValues& probes) {
  nlohmann::json j;
  j["model"] = path;
  auto model = Model::load(path);
  if (!model.ok()) {
    j["error"] = model.status().to_string();
    return j;
  }
  const int vocab = model->config().n_vocab;
  const int ctx = 8 + a.tokens + a.prefill + 8;
  const std::vector<TokenId> toks = stream(a.prefill + a.tokens + 8, vocab);
  CompileOptions co;
  co.group = static_cast<std::uint32_t>(a.group);
  co.max_context = 1;
  while (co.max_context < static_cast<std::uint32_t>(ctx)) co.max_context *= 2;
  co.max_context = std::max<std::uint32_t>(co.max_context, 128);
  co.use_cache = false;
  // The Program as compiled by default (weight transforms folded in at
  // import) and without the transforms, measured in alternating reps: the
  // transforms must not change the run time.
  auto program = compile_program(*model, "cpu-host", co);
  co.smoothing = false;
  co.rotation = false;
  auto plain = compile_program(*model, "cpu-host", co);
  if (!program.ok() || !plain.ok()) {
    j["error"] = (program.ok() ? plain.status() : program.status()).to_string();
    return j;
  }
  j["weight_transforms"] = program->weight_transforms();
  std::vector<double> cpu_dec, cpu_pre, plain_dec, plain_pre;
  auto measure = [&](const Program& p, std::vector<double>& dec, std::vector<double>& pre) {
    auto dev = open_device("cpu", "cpu-host", {.threads = a.threads});
    (void)(*dev)->load(p, *model);
    auto run = runtime::SequenceRunner::create(**dev, p, static_cast<std::uint32_t>(vocab));
    auto fwd = [&](std::span<const TokenId> t) { (void)run->forward(t, false); };
    dec.push_back(a.tokens / time_pass(fwd, toks, 8, a.tokens).second);
    auto warm = runtime::SequenceRunner::create(**dev, p, static_cast<std::uint32_t>(vocab));
    (void)warm->forward(std::span(toks.data(), static_cast<std::size_t>(a.prefill)), false);
    auto run2 = runtime::SequenceRunner::create(**dev, p, static_cast<std::uint32_t>(vocab));
    auto fwd2 = [&](std::span<const TokenId> t) { (void)run2->forward(t, false); };
    pre.push_back(a.prefill / time_pass(fwd2, toks, a.prefill, 0).first);
  };
  // Which goes first alternates, so neither gains from running second.
  for (int r = 0; r < a.reps; ++r) {
    if (r % 2 == 0) measure(*program, cpu_dec, cpu_pre);
    measure(*plain, plain_dec, plain_pre);
    if (r % 2 == 1) measure(*program, cpu_dec, cpu_pre);
  }
  const double wb = static_cast<double>(weight_bytes(*model));
  const double ops = 2.0 * wb;  // int8 ops per token (2 per MAC)
  auto frac_bw = [&](double tps) { return probes.read_gbps > 0 ? tps * wb / (probes.read_gbps * 1e9) : 0.0; };
  auto frac_vnni = [&](double tps) { return probes.vnni_gops > 0 ? tps * ops / (probes.vnni_gops * 1e9) : 0.0; };
  const double cd = median(cpu_dec), cp = median(cpu_pre);
  j["group"] = a.group;
  j["weight_bytes_per_token"] = wb;
  j["cpu_backend"] = {{"decode_tokens_per_s", cd}, {"prefill_tokens_per_s", cp},
                      {"decode_of_read_bw", frac_bw(cd)}, {"prefill_of_vnni", frac_vnni(cp)}};
  const double pd = median(plain_dec), pp = median(plain_pre);
  j["cpu_backend_without_transforms"] = {{"decode_tokens_per_s", pd}, {"prefill_tokens_per_s", pp},
                                         {"decode_ratio", pd > 0 ? cd / pd : 0.0},
                                         {"prefill_ratio", pp > 0 ? cp / pp : 0.0}};
  // The simulator, functional, on an LPU target.
  CompileOptions so;
  so.max_context = 128;
  so.use_cache = false;
  auto sp = compile_program(*model, a.sim_target, so);
  if (sp.ok()) {
    auto dev = open_device("lpu-sim", a.sim_target);
    if (dev.ok() && (*dev)->load(*sp, *model).ok()) {
      auto run = runtime::SequenceRunner::create(**dev, *sp, static_cast<std::uint32_t>(vocab));
      auto fwd = [&](std::span<const TokenId> t) { (void)run->forward(t, false); };
      const int n = 8;
      const double s = time_pass(fwd, toks, 1, n).second;
      j["simulator_functional"] = {{"target", a.sim_target}, {"chips", sp->chips()},
                                   {"decode_tokens_per_s_of_host_time", n / s}};
    }
  } else {
    j["simulator_functional"] = {{"error", sp.status().to_string()}};
  }
  return j;
}

nlohmann::json bench_shape(const std::string& spec) {
  nlohmann::json j;
  j["shape"] = spec;
  const std::size_t at = spec.find('@'), colon = spec.find(':');
  const std::string name = spec.substr(0, at);
  const std::string target = spec.substr(at + 1, colon == std::string::npos ? std::string::npos : colon - at - 1);
  const std::uint32_t chips = colon == std::string::npos ? 0 : static_cast<std::uint32_t>(std::stoul(spec.substr(colon + 1)));
  auto cfg = shape_preset(name);
  auto t = target::resolve_target(target);
  if (!cfg.ok() || !t.ok()) {
    j["error"] = "bad --shape " + spec;
    return j;
  }
  compiler::CompileOptions o;
  o.chips = chips;
  const auto c0 = Clock::now();
  auto c = compiler::compile(compiler::model_input_from_config(*cfg), *t, o);
  j["compile_seconds"] = std::chrono::duration<double>(Clock::now() - c0).count();
  if (!c.ok()) {
    j["error"] = c.status().to_string();
    return j;
  }
  sim::StepModel m;
  m.config = *cfg;
  auto s = sim::Simulator::create(c->program, *t, m);
  if (!s.ok()) {
    j["error"] = s.status().to_string();
    return j;
  }
  const std::string v = c->program.variants[compiler::headline_variant(*c)].name;
  auto r = (*s)->run(v, {.timing_only = true});
  if (!r.ok()) {
    j["error"] = r.status().to_string();
    return j;
  }
  j["variant"] = v;
  j["chips"] = c->program.meta.chips;
  j["instructions"] = r->instructions;
  j["simulated_cycles"] = r->simulated_cycles;
  j["static_latency_cycles"] = r->static_latency_cycles;
  j["host_seconds"] = r->host_seconds;
  return j;
}

}  // namespace
}  // namespace lpu::bench

int main(int argc, char** argv) {
  using namespace lpu::bench;
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") a.models.push_back(v);
    else if (k == "--shape") a.shapes.push_back(v);
    else if (k == "--threads") a.threads = std::stoi(v);
    else if (k == "--tokens") a.tokens = std::stoi(v);
    else if (k == "--prefill") a.prefill = std::stoi(v);
    else if (k == "--reps") a.reps = std::stoi(v);
    else if (k == "--group") a.group = std::stoi(v);
    else if (k == "--sim-target") a.sim_target = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  nlohmann::json out;
  ProbeValues probes;
  if (!a.models.empty()) {
    ReadProbeBuffer buf(kReadProbeBytes);
    calibrate_probes(buf, a.threads, 3);
    probes = probe_values();
  }
  out["threads"] = a.threads;
  out["probes"] = {{"read_gbps", probes.read_gbps}, {"vnni_gops", probes.vnni_gops}};
  out["models"] = nlohmann::json::array();
  for (const std::string& m : a.models) out["models"].push_back(bench_model(m, a, probes));
  out["shapes"] = nlohmann::json::array();
  for (const std::string& s : a.shapes) out["shapes"].push_back(bench_shape(s));
  std::cout << out.dump(2) << "\n";
  return 0;
}
