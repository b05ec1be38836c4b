#include "bench/kernels/bench_util.h"

#include <algorithm>
#include <cstring>

#include "bench/roofline/probes.h"

namespace lpu::bench {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

kernels::ThreadPool& bench_pool() {
  static kernels::ThreadPool pool(kThreads);
  return pool;
}

std::vector<Shape> llama_shapes() {
  return {{4096, 4096}, {14336, 4096}, {4096, 14336}, {2048, 2048}, {5632, 2048}, {2048, 5632}};
}

std::string shape_name(Shape s) { return std::to_string(s.n) + "x" + std::to_string(s.k); }

std::size_t dram_copies(std::size_t bytes_each) {
  return std::max<std::size_t>(1, (kDramBytes + bytes_each - 1) / bytes_each);
}

void set_counters(benchmark::State& state, const Work& work, double seconds) {
  const double calls = static_cast<double>(state.iterations());
  const double gbps = seconds > 0 ? work.weight_bytes * calls / seconds * 1e-9 : 0;
  const double gops = seconds > 0 ? work.ops * calls / seconds * 1e-9 : 0;
  const ProbeValues& probe = probe_values();
  double bound = probe.read_gbps * work.ops / work.weight_bytes;
  if (probe.vnni_gops > 0) bound = std::min(bound, probe.vnni_gops);
  state.counters["GBps"] = gbps;
  state.counters["GOPs"] = gops;
  state.counters["roofline"] = bound > 0 ? gops / bound : 0;
}

void fill_random_bytes(std::uint8_t* p, std::size_t bytes, std::uint64_t seed) {
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    const std::uint64_t v = splitmix64(seed);
    std::memcpy(p + i, &v, 8);
  }
  if (i < bytes) {
    const std::uint64_t v = splitmix64(seed);
    std::memcpy(p + i, &v, bytes - i);
  }
}

void fill_random_floats(float* p, std::size_t count, std::uint64_t seed) {
  for (std::size_t i = 0; i < count; ++i) {
    // The top 24 bits as a fraction in [0, 1), then mapped to [-1, 1).
    const double u = static_cast<double>(splitmix64(seed) >> 40) * 0x1.0p-24;
    p[i] = static_cast<float>(2 * u - 1);
  }
}

CycledSet<kernels::AlignedBuffer>& s8_nk_set(Shape s) {
  return working_set<CycledSet<kernels::AlignedBuffer>>("s8_nk/" + shape_name(s), [s] {
    const std::size_t bytes = s.n * s.k;
    CycledSet<kernels::AlignedBuffer> set;
    kernels::AlignedBuffer first(bytes);
    fill_random_bytes(first.data(), bytes, 1);
    const std::size_t copies = dram_copies(bytes);
    set.items.reserve(copies);
    for (std::size_t c = 0; c < copies; ++c) {
      kernels::AlignedBuffer b(bytes);
      std::memcpy(b.data(), first.data(), bytes);
      set.items.push_back(std::move(b));
    }
    return set;
  });
}

namespace detail {
WorkingSetSlot& working_set_slot(const std::string& key) {
  static WorkingSetSlot slots[kWorkingSetSlots];
  static std::uint64_t clock = 0;
  WorkingSetSlot* pick = &slots[0];
  for (WorkingSetSlot& s : slots) {
    if (s.data != nullptr && s.key == key) {
      pick = &s;
      break;
    }
    if (s.last_use < pick->last_use) pick = &s;
  }
  if (pick->key != key) {
    // Free the evicted set before the caller builds the new one.
    pick->data.reset();
    pick->key.clear();
  }
  pick->last_use = ++clock;
  return *pick;
}
}  // namespace detail

}  // namespace lpu::bench
