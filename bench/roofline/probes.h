#pragma once
// The two machine probes the benchmarks' `roofline` counters divide by:
//
//  - read bandwidth: `threads` threads each sum their half of a buffer of
//    at least 2 GiB (far beyond any cache) with AVX-512 loads into 8
//    independent accumulators, so neither the adds nor one dependency chain
//    limit the stream;
//  - VNNI peak: `threads` threads each run 16 independent vpdpbusd chains
//    on zmm registers (more than latency x throughput, so the ports stay
//    full); one vpdpbusd does 64 u8 x s8 multiply-adds, i.e. 128 int8 ops.
//
// Both are what the kernels could at best reach on this machine: a GEMV
// streams its weights once (read bound), a GEMM issues vpdpbusd (VNNI
// bound).

#include <cstddef>
#include <cstdint>

namespace lpu::bench {

/// The buffer the read probe streams: `bytes` (rounded down to 512-byte
/// blocks per thread) written with a non-zero pattern, so every page is
/// backed by real memory.
class ReadProbeBuffer {
 public:
  explicit ReadProbeBuffer(std::size_t bytes);
  ~ReadProbeBuffer();
  ReadProbeBuffer(const ReadProbeBuffer&) = delete;
  ReadProbeBuffer& operator=(const ReadProbeBuffer&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::uint8_t* data_;
  std::size_t size_;
};

/// Bytes the read probe streams per pass: 2 GiB.
inline constexpr std::size_t kReadProbeBytes = std::size_t{2} << 30;

/// One pass of the read probe over `buffer` on `threads` threads; returns
/// GB/s (1e9 bytes per second). `sink` receives the sum (keeps the loads).
double measure_read_bandwidth(const ReadProbeBuffer& buffer, int threads, std::uint64_t* sink);

/// One run of the VNNI probe on `threads` threads, about 0.1 s long;
/// returns int8 GOP/s (1e9 ops per second, 2 per multiply-add). 0 when the
/// CPU has no AVX-512 VNNI.
double measure_vnni_peak(int threads, std::uint64_t* sink);

/// The probe values the roofline counters use, measured once per process.
struct ProbeValues {
  double read_gbps = 0;  ///< best of several read passes (GB/s)
  double vnni_gops = 0;  ///< best of several VNNI runs (GOP/s); 0 without VNNI
};

/// Measures both probes (the best of `passes` each, after one warm-up
/// pass) on `threads` threads and keeps the values for probe_values().
void calibrate_probes(const ReadProbeBuffer& buffer, int threads, int passes);

/// The values calibrate_probes() measured (zeros before it ran).
const ProbeValues& probe_values();

}  // namespace lpu::bench
