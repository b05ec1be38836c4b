// lpu_engine_bench: continuous batching on the CPU backend, as JSON.
// --requests requests (8-token prompts, --tokens generated each past
// end-of-generation, greedy and seeded alternately) run alone on a 1-slot
// Engine and together on a --requests-slot Engine: aggregate tokens/s of
// both (generated tokens / seconds inside step()), whether every request's
// tokens equal its solo run, the slot occupancy per decode step, and the
// Engine's time over the device's (what the API adds to a step).
// Usage: lpu_engine_bench --model PATH [--requests 8] [--tokens 64] [--threads 2]
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "include/lpu/engine.h"

namespace lpu::bench {
namespace {

struct Args {
  std::string model;
  int requests = 8;
  int tokens = 64;
  int threads = 2;
};

std::vector<Request> make_requests(const Args& a, int n_vocab) {
  std::vector<Request> out;
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < a.requests; ++i) {
    Request r;
    for (int t = 0; t < 8; ++t) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      r.prompt.push_back(static_cast<TokenId>(3 + x % static_cast<std::uint64_t>(n_vocab - 3)));
    }
    r.max_tokens = a.tokens;
    r.ignore_eos = true;
    if (i % 2 == 1) {
      r.sampling.temperature = 0.8f;
      r.sampling.seed = static_cast<std::uint64_t>(i);
    }
    out.push_back(std::move(r));
  }
  return out;
}

struct RunResult {
  std::vector<std::vector<TokenId>> tokens;
  Engine::Stats stats;
};

Result<RunResult> run(const Model& m, const Args& a, const std::vector<Request>& rs, std::uint32_t slots) {
  EngineOptions o;
  o.slots = slots;
  o.max_context = 128;
  o.threads = a.threads;
  o.record_steps = true;
  LPU_ASSIGN_OR_RETURN(std::unique_ptr<Engine> e, Engine::create(m, o));
  std::vector<RequestId> ids;
  for (const Request& r : rs) {
    LPU_ASSIGN_OR_RETURN(RequestId id, e->submit(r));
    ids.push_back(id);
  }
  LPU_TRY(e->run(), "");
  RunResult out;
  for (RequestId id : ids) {
    LPU_ASSIGN_OR_RETURN(RequestOutput r, e->output(id));
    out.tokens.push_back(r.tokens);
  }
  out.stats = e->stats();
  return out;
}

int main_impl(const Args& a) {
  nlohmann::json j;
  auto model = Model::load(a.model);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().to_string().c_str());
    return 1;
  }
  const std::vector<Request> rs = make_requests(a, model->config().n_vocab);
  std::vector<std::vector<TokenId>> solo;
  double solo_s = 0.0, solo_device_s = 0.0;
  std::size_t solo_tokens = 0;
  for (const Request& r : rs) {
    auto one = run(*model, a, {r}, 1);
    if (!one.ok()) {
      std::fprintf(stderr, "%s\n", one.status().to_string().c_str());
      return 1;
    }
    solo.push_back(one->tokens[0]);
    solo_s += one->stats.step_seconds;
    solo_device_s += one->stats.device_seconds;
    solo_tokens += one->tokens[0].size();
  }
  auto all = run(*model, a, rs, static_cast<std::uint32_t>(a.requests));
  if (!all.ok()) {
    std::fprintf(stderr, "%s\n", all.status().to_string().c_str());
    return 1;
  }
  std::size_t tokens = 0;
  bool same = true;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    tokens += all->tokens[i].size();
    same = same && all->tokens[i] == solo[i];
  }
  const double single_tps = solo_tokens / solo_s;
  const double batched_tps = tokens / all->stats.step_seconds;
  j["model"] = a.model;
  j["threads"] = a.threads;
  j["requests"] = a.requests;
  j["tokens_per_request"] = a.tokens;
  j["single_tokens_per_s"] = single_tps;
  j["batched_tokens_per_s"] = batched_tps;
  j["batched_over_single"] = batched_tps / single_tps;
  j["tokens_equal_solo_runs"] = same;
  j["decode_occupancy"] = all->stats.decode_occupancy;
  j["api_overhead_single"] = solo_s / solo_device_s - 1.0;
  j["api_overhead_batched"] = all->stats.step_seconds / all->stats.device_seconds - 1.0;
  // Of which choosing tokens (the rest: admitting requests, writing the
  // step's inputs, reading logits, streaming text).
  j["sampling_share_batched"] = all->stats.sampling_seconds / all->stats.device_seconds;
  std::printf("%s\n", j.dump(2).c_str());
  return same ? 0 : 1;
}

}  // namespace
}  // namespace lpu::bench

int main(int argc, char** argv) {
  lpu::bench::Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") a.model = v;
    else if (k == "--requests") a.requests = std::stoi(v);
    else if (k == "--tokens") a.tokens = std::stoi(v);
    else if (k == "--threads") a.threads = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (a.model.empty() || a.requests < 1 || a.tokens < 1) {
    std::fprintf(stderr, "usage: lpu_engine_bench --model PATH [--requests 8] [--tokens 64] [--threads 2]\n");
    return 2;
  }
  return lpu::bench::main_impl(a);
}
