// lpu_bench_kernels: our int8 GEMV/GEMM against oneDNN, Eigen fp32 and a
// naive loop over Llama-shaped matrices, with the two roofline probes.
// bench/README.md explains the names and counters; scripts/bench.sh runs
// it all.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "bench/kernels/bench_util.h"
#include "bench/kernels/register.h"
#include "bench/roofline/probes.h"
#include "kernels/dispatch/isa.h"

namespace {

// Passes of each probe at start; the best one becomes the roofline.
constexpr int kCalibrationPasses = 5;

bool listing_only(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--benchmark_list_tests", 22) == 0 &&
        std::strcmp(argv[i], "--benchmark_list_tests=false") != 0) {
      return true;
    }
  }
  return false;
}

void register_all() {
  using namespace lpu::bench;
  register_probe_benchmarks();
  bool onednn = true;
  for (const Shape s : llama_shapes()) {
    register_lpu_benchmarks(s);
    onednn = register_onednn_benchmarks(s) && onednn;
    register_naive_benchmarks(s);
    register_eigen_benchmarks(s);
  }
  if (!onednn) {
    std::fprintf(stderr,
                 "lpu_bench_kernels: built without oneDNN, the onednn/ baselines are left out "
                 "(install libdnnl-dev and reconfigure)\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lpu::bench;
  const bool list = listing_only(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  if (!list) {
    calibrate_probes(read_probe_buffer(), kThreads, kCalibrationPasses);
    const ProbeValues& p = probe_values();
    std::fprintf(
        stderr,
        "lpu_bench_kernels: %d threads, kernels %s; probes: read %.2f GB/s, VNNI %.1f GOP/s\n",
        kThreads, std::string(lpu::kernels::isa_name(lpu::kernels::active_isa())).c_str(),
        p.read_gbps, p.vnni_gops);
    benchmark::AddCustomContext("lpu_threads", std::to_string(kThreads));
    benchmark::AddCustomContext("lpu_kernel_isa",
                                std::string(lpu::kernels::isa_name(lpu::kernels::active_isa())));
    benchmark::AddCustomContext("probe_read_bw_GBps", std::to_string(p.read_gbps));
    benchmark::AddCustomContext("probe_vnni_peak_GOPs", std::to_string(p.vnni_gops));
    const std::string dnnl = onednn_version();
    benchmark::AddCustomContext("onednn_version", dnnl.empty() ? "absent" : dnnl);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
