// probe/read_bw and probe/vnni_peak: the two probes as benchmarks, so a
// run's JSON holds their medians beside everything else. Their roofline
// counter is the run's value over the calibration at start (about 1).

#include <cstdint>

#include "bench/kernels/bench_util.h"
#include "bench/kernels/register.h"
#include "bench/roofline/probes.h"

namespace lpu::bench {
namespace {

void bm_read_bw(benchmark::State& state) {
  const ReadProbeBuffer& buffer = read_probe_buffer();
  std::uint64_t sink = 0;
  double sum = 0;
  for (auto _ : state) sum += measure_read_bandwidth(buffer, kThreads, &sink);
  benchmark::DoNotOptimize(sink);
  const double gbps = sum / static_cast<double>(state.iterations());
  state.counters["GBps"] = gbps;
  state.counters["GOPs"] = 0;
  state.counters["roofline"] = probe_values().read_gbps > 0 ? gbps / probe_values().read_gbps : 0;
}

void bm_vnni_peak(benchmark::State& state) {
  if (probe_values().vnni_gops == 0) {
    state.SkipWithError("this CPU has no AVX-512 VNNI");
    return;
  }
  std::uint64_t sink = 0;
  double sum = 0;
  for (auto _ : state) sum += measure_vnni_peak(kThreads, &sink);
  benchmark::DoNotOptimize(sink);
  const double gops = sum / static_cast<double>(state.iterations());
  state.counters["GBps"] = 0;
  state.counters["GOPs"] = gops;
  state.counters["roofline"] = gops / probe_values().vnni_gops;
}

}  // namespace

const ReadProbeBuffer& read_probe_buffer() {
  return working_set<ReadProbeBuffer>("probe/read_bw", [] { return kReadProbeBytes; });
}

void register_probe_benchmarks() {
  add_benchmark("probe/read_bw", bm_read_bw);
  add_benchmark("probe/vnni_peak", bm_vnni_peak);
}

}  // namespace lpu::bench
