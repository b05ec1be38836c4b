// Built with -mavx512f -mavx512bw -mavx512vnni (bench/CMakeLists.txt).
#include <immintrin.h>

#include "bench/roofline/probe_loops.h"

namespace lpu::bench {

std::uint64_t read_sum_avx512(const std::uint8_t* p, std::size_t bytes) {
  // Eight accumulators: the adds (one per 64 bytes) never wait on each
  // other, so only the memory stream limits the loop.
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0,
          s7 = s0;
  for (std::size_t i = 0; i < bytes; i += 512) {
    const std::uint8_t* q = p + i;
    s0 = _mm512_add_epi64(s0, _mm512_load_si512(q));
    s1 = _mm512_add_epi64(s1, _mm512_load_si512(q + 64));
    s2 = _mm512_add_epi64(s2, _mm512_load_si512(q + 128));
    s3 = _mm512_add_epi64(s3, _mm512_load_si512(q + 192));
    s4 = _mm512_add_epi64(s4, _mm512_load_si512(q + 256));
    s5 = _mm512_add_epi64(s5, _mm512_load_si512(q + 320));
    s6 = _mm512_add_epi64(s6, _mm512_load_si512(q + 384));
    s7 = _mm512_add_epi64(s7, _mm512_load_si512(q + 448));
  }
  const __m512i s =
      _mm512_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)),
                       _mm512_add_epi64(_mm512_add_epi64(s4, s5), _mm512_add_epi64(s6, s7)));
  return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(s));
}

std::uint64_t vnni_chains_avx512(std::size_t iterations) {
  // 16 chains: vpdpbusd has a latency of about 5 cycles and issues up to
  // twice per cycle, so at least 10 must be in flight to keep both ports
  // busy; 16 leave margin and still fit in registers beside the operands.
  // Inline assembly, so the loop is exactly these 16 instructions: with
  // intrinsics GCC 12 shuffles the accumulators through extra register
  // moves and a spill, which compete for the same ports.
  static_assert(kVnniChains == 16);
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
          a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
  const __m512i u = _mm512_set1_epi8(3);
  const __m512i s = _mm512_set1_epi8(-5);
  for (std::size_t i = 0; i < iterations; ++i) {
    // AT&T order: vpdpbusd signed, unsigned, accumulator. Two statements
    // of 8, since an asm takes at most 30 operands ("+v" counts twice).
    __asm__ volatile(
        "vpdpbusd %[s], %[u], %[a0]\n\t"
        "vpdpbusd %[s], %[u], %[a1]\n\t"
        "vpdpbusd %[s], %[u], %[a2]\n\t"
        "vpdpbusd %[s], %[u], %[a3]\n\t"
        "vpdpbusd %[s], %[u], %[a4]\n\t"
        "vpdpbusd %[s], %[u], %[a5]\n\t"
        "vpdpbusd %[s], %[u], %[a6]\n\t"
        "vpdpbusd %[s], %[u], %[a7]"
        : [a0] "+v"(a0), [a1] "+v"(a1), [a2] "+v"(a2), [a3] "+v"(a3), [a4] "+v"(a4), [a5] "+v"(a5),
          [a6] "+v"(a6), [a7] "+v"(a7)
        : [u] "v"(u), [s] "v"(s));
    __asm__ volatile(
        "vpdpbusd %[s], %[u], %[a8]\n\t"
        "vpdpbusd %[s], %[u], %[a9]\n\t"
        "vpdpbusd %[s], %[u], %[a10]\n\t"
        "vpdpbusd %[s], %[u], %[a11]\n\t"
        "vpdpbusd %[s], %[u], %[a12]\n\t"
        "vpdpbusd %[s], %[u], %[a13]\n\t"
        "vpdpbusd %[s], %[u], %[a14]\n\t"
        "vpdpbusd %[s], %[u], %[a15]"
        : [a8] "+v"(a8), [a9] "+v"(a9), [a10] "+v"(a10), [a11] "+v"(a11), [a12] "+v"(a12),
          [a13] "+v"(a13), [a14] "+v"(a14), [a15] "+v"(a15)
        : [u] "v"(u), [s] "v"(s));
  }
  const __m512i sum = _mm512_add_epi32(
      _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                       _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7))),
      _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a8, a9), _mm512_add_epi32(a10, a11)),
                       _mm512_add_epi32(_mm512_add_epi32(a12, a13), _mm512_add_epi32(a14, a15))));
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm512_reduce_add_epi32(sum)));
}

}  // namespace lpu::bench
