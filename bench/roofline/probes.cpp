#include "bench/roofline/probes.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "bench/roofline/probe_loops.h"
#include "kernels/dispatch/isa.h"

namespace lpu::bench {
namespace {

constexpr std::size_t kAlignment = 64;
constexpr std::size_t kBlock = 512;
// VNNI probe iterations per thread: 2^25 x 16 vpdpbusd, about 0.1 s at two
// instructions per cycle.
constexpr std::size_t kVnniIterations = std::size_t{1} << 25;

ProbeValues g_probe_values;
// Where the probe sums end up, so no load or vpdpbusd is dead code.
volatile std::uint64_t g_sink = 0;

bool have_avx512_vnni() { return kernels::cpu_supports(kernels::Isa::kAvx512Vnni); }

// Runs fn(t) on `threads` threads (the caller is thread 0) and returns the
// seconds from the moment all of them are ready to the last one finishing.
// Threads are started, then released together, so the thread start-up is
// not timed.
template <typename Fn>
double timed_on_threads(int threads, Fn fn, std::uint64_t* sink) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::uint64_t> results(static_cast<std::size_t>(threads), 0);
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.fetch_add(1, std::memory_order_acq_rel);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      results[static_cast<std::size_t>(t)] = fn(t);
    });
  }
  while (ready.load(std::memory_order_acquire) != threads - 1) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  results[0] = fn(0);
  for (auto& w : workers) w.join();
  const auto end = std::chrono::steady_clock::now();
  for (std::uint64_t r : results) *sink += r;
  return std::chrono::duration<double>(end - start).count();
}

}  // namespace

std::uint64_t read_sum_portable(const std::uint8_t* p, std::size_t bytes) {
  const auto* q = reinterpret_cast<const std::uint64_t*>(p);
  std::uint64_t s[8] = {};
  for (std::size_t i = 0; i < bytes / 8; i += 8) {
    for (std::size_t j = 0; j < 8; ++j) s[j] += q[i + j];
  }
  std::uint64_t total = 0;
  for (std::uint64_t v : s) total += v;
  return total;
}

ReadProbeBuffer::ReadProbeBuffer(std::size_t bytes)
    : data_(static_cast<std::uint8_t*>(::operator new(bytes, std::align_val_t(kAlignment)))),
      size_(bytes) {
  // A non-zero pattern: untouched or all-zero pages could be served from
  // one shared zero page and read at cache speed.
  auto* words = reinterpret_cast<std::uint64_t*>(data_);
  for (std::size_t i = 0; i < bytes / 8; ++i) words[i] = i * 0x9E3779B97F4A7C15ull;
}

ReadProbeBuffer::~ReadProbeBuffer() { ::operator delete(data_, std::align_val_t(kAlignment)); }

double measure_read_bandwidth(const ReadProbeBuffer& buffer, int threads, std::uint64_t* sink) {
  threads = std::max(threads, 1);
  const std::size_t per_thread =
      buffer.size() / static_cast<std::size_t>(threads) / kBlock * kBlock;
  const bool avx512 = have_avx512_vnni();
  const double seconds = timed_on_threads(
      threads,
      [&](int t) {
        const std::uint8_t* p = buffer.data() + static_cast<std::size_t>(t) * per_thread;
        return avx512 ? read_sum_avx512(p, per_thread) : read_sum_portable(p, per_thread);
      },
      sink);
  return static_cast<double>(per_thread) * threads / seconds * 1e-9;
}

double measure_vnni_peak(int threads, std::uint64_t* sink) {
  if (!have_avx512_vnni()) return 0;
  threads = std::max(threads, 1);
  const double seconds = timed_on_threads(
      threads, [](int) { return vnni_chains_avx512(kVnniIterations); }, sink);
  // 64 multiply-adds of u8 x s8 per vpdpbusd on a zmm register.
  const double ops = 128.0 * kVnniChains * static_cast<double>(kVnniIterations) * threads;
  return ops / seconds * 1e-9;
}

void calibrate_probes(const ReadProbeBuffer& buffer, int threads, int passes) {
  std::uint64_t sink = 0;
  // The first pass faults in TLB entries and wakes the cores from idle.
  measure_read_bandwidth(buffer, threads, &sink);
  measure_vnni_peak(threads, &sink);
  ProbeValues v;
  for (int i = 0; i < passes; ++i) {
    v.read_gbps = std::max(v.read_gbps, measure_read_bandwidth(buffer, threads, &sink));
    v.vnni_gops = std::max(v.vnni_gops, measure_vnni_peak(threads, &sink));
  }
  g_probe_values = v;
  g_sink = sink;
}

const ProbeValues& probe_values() { return g_probe_values; }

}  // namespace lpu::bench
