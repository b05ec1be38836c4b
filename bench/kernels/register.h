#pragma once
// The benchmark families of lpu_bench_kernels, registered per shape in
// this order (so that families sharing a working set run back to back).

#include <string>

#include "bench/kernels/bench_util.h"

namespace lpu::bench {

class ReadProbeBuffer;

/// probe/read_bw and probe/vnni_peak.
void register_probe_benchmarks();

/// The read probe's 2 GiB buffer, held as the working set (so the first
/// weight set frees it).
const ReadProbeBuffer& read_probe_buffer();

/// gemv/ and gemm/: our int8 matmul at G = 256 and G = 32.
void register_lpu_benchmarks(Shape s);

/// onednn/: dnnl_gemm_u8s8s32 (weights N x K) for M <= 16 and the matmul
/// primitive with prepacked weights for M >= 128. Returns false (and
/// registers nothing) when lpu_bench_kernels was built without oneDNN.
bool register_onednn_benchmarks(Shape s);

/// The oneDNN version built against ("2.6.3"), or "" without oneDNN.
std::string onednn_version();

/// naive/: a plain int8 loop over the N x K weights.
void register_naive_benchmarks(Shape s);

/// eigen/: fp32 GEMV and GEMM on the same shape.
void register_eigen_benchmarks(Shape s);

}  // namespace lpu::bench
