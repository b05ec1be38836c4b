// Google Benchmark of the Sampler on one row of SmolLM2's vocabulary size
// (49152 logits): greedy, temperature alone, top-k + top-p, and greedy
// with penalties over a 64-token history. Items are logits read.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "include/lpu/sampling.h"

namespace {

constexpr int kVocab = 49152;

std::vector<float> logits() {
  std::vector<float> l(kVocab);
  std::uint64_t x = 0x2545F4914F6CDD1Dull;
  for (float& v : l) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v = static_cast<float>(static_cast<double>(x >> 11) / 9007199254740992.0 * 20.0 - 10.0);
  }
  return l;
}

void run(benchmark::State& state, const lpu::SamplingOptions& o, std::size_t history) {
  const std::vector<float> l = logits();
  std::vector<lpu::TokenId> h(history);
  for (std::size_t i = 0; i < history; ++i) h[i] = static_cast<lpu::TokenId>((i * 7919) % kVocab);
  auto s = lpu::Sampler::create(o, kVocab);
  std::uint64_t step = 0;
  for (auto _ : state) {
    auto t = s->sample(l, h, step++);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kVocab);
}

void BM_SampleGreedy(benchmark::State& state) { run(state, {}, 0); }
void BM_SampleTemperature(benchmark::State& state) { run(state, {.temperature = 0.8f, .seed = 1}, 0); }
void BM_SampleTopKTopP(benchmark::State& state) { run(state, {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .seed = 1}, 0); }
void BM_SampleGreedyPenalties(benchmark::State& state) {
  run(state, {.repeat_penalty = 1.1f, .frequency_penalty = 0.2f, .presence_penalty = 0.1f}, 64);
}

BENCHMARK(BM_SampleGreedy);
BENCHMARK(BM_SampleTemperature);
BENCHMARK(BM_SampleTopKTopP);
BENCHMARK(BM_SampleGreedyPenalties);

}  // namespace

BENCHMARK_MAIN();
