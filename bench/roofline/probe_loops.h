#pragma once
// The single-thread loops of the probes (probes.cpp runs them on threads).
// The AVX-512 ones live in probe_loops_avx512.cpp, the only file built
// with AVX-512 flags; call them only when cpu_supports(kAvx512Vnni).

#include <cstddef>
#include <cstdint>

namespace lpu::bench {

/// vpdpbusd instructions per iteration of vnni_chains_avx512 (one per
/// independent accumulator).
inline constexpr std::size_t kVnniChains = 16;

/// Sums `bytes` (a multiple of 512) from `p` (64-byte aligned) as 64-bit
/// lanes with 8 independent zmm accumulators.
std::uint64_t read_sum_avx512(const std::uint8_t* p, std::size_t bytes);

/// The same sum with plain 64-bit loads and 8 accumulators (CPUs without
/// AVX-512).
std::uint64_t read_sum_portable(const std::uint8_t* p, std::size_t bytes);

/// `iterations` x kVnniChains vpdpbusd on zmm registers, every chain
/// independent; returns a value derived from all chains.
std::uint64_t vnni_chains_avx512(std::size_t iterations);

}  // namespace lpu::bench
