#pragma once
// The one body of the int8 GEMV and GEMM families (gemm_s8s8s32.h),
// templated on the rows MR, the panels NP (NR = 16 NP) and an ISA tag.
// Include it only from a per-ISA .cpp, whose tag (defined in that file's
// anonymous namespace, so no instantiation leaks into another ISA's code)
// provides:
//
//   kMaxRows   rows one pass keeps in registers; a taller tile is walked in
//              passes over the same group, whose weights are then in L1
//   kAccRegs   registers one accumulator takes (sets the unroll below)
//   IAcc, W, X an int32 accumulator of one row x one panel, one loaded
//              64-byte weight vector, one activation quad broadcast
//   zero() load_w(p) bcast_x(p) dot(acc, w, x) add(a, b) prefetch(p)
//   combine(acc, corr, ws, xs, out): out[j] = fma(float(acc[j] - corr),
//              ws[j] * xs, out[j]) for the 16 columns j
//
// The tag's functions are LPU_KERNEL_INLINE: GCC 12 deletes an early call
// to a function that holds nothing but a prefetch, as if it were pure, so
// they must be inlined before its first dead-code pass.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/gemm/gemm_s8s8s32.h"
#include "kernels/pack/packed_weights.h"

#define LPU_KERNEL_INLINE inline __attribute__((always_inline))
// On a kernel entry: inline every call inside it, so the whole tile is one
// function with its accumulators in registers.
#define LPU_KERNEL_FLATTEN __attribute__((flatten))

namespace lpu::kernels::gemm_body {

// Prefetch distance for the GEMV weight stream: 32 vectors (2 KiB) ahead,
// a few hundred nanoseconds of streaming at DRAM speed per core.
inline constexpr std::size_t kPrefetchBytes = 2048;

// Independent accumulator copies per quad, so about eight dot products are
// in flight (vpdpbusd: latency 5, two per cycle). Integer sums are exact,
// so splitting them changes nothing in the result.
template <class Isa, int Rows, int NP>
constexpr int unroll() {
  const int regs = Rows * NP * Isa::kAccRegs;
  const int u = 8 / regs;
  return u < 1 ? 1 : (u > 4 ? 4 : u);
}

// The loops over rows, panels and unrolled copies below have constant trip
// counts and are unrolled completely (LPU_UNROLL), so the accumulator
// arrays become registers.
#define LPU_UNROLL _Pragma("GCC unroll 32")

template <class Isa, int Rows, int NP, bool kPrefetch>
LPU_KERNEL_INLINE void dot_quad(typename Isa::IAcc (&acc)[Rows][NP], const std::uint8_t* const* w,
                                const std::int8_t* const* x, std::size_t q) {
  typename Isa::W wv[NP];
  LPU_UNROLL for (int p = 0; p < NP; ++p) {
    const std::uint8_t* src = w[p] + q * kVectorBytes;
    if constexpr (kPrefetch) Isa::prefetch(src + kPrefetchBytes);
    wv[p] = Isa::load_w(src);
  }
  LPU_UNROLL for (int m = 0; m < Rows; ++m) {
    const typename Isa::X xb = Isa::bcast_x(x[m] + q * kQuadK);
    LPU_UNROLL for (int p = 0; p < NP; ++p) acc[m][p] = Isa::dot(acc[m][p], wv[p], xb);
  }
}

// sum[m][p] = raw dot product of row m and panel p over `quads` vectors.
template <class Isa, int Rows, int NP, bool kPrefetch>
LPU_KERNEL_INLINE void group_dot(const std::uint8_t* const* w, const std::int8_t* const* x,
                                 std::size_t quads, typename Isa::IAcc (&sum)[Rows][NP]) {
  constexpr int kU = unroll<Isa, Rows, NP>();
  typename Isa::IAcc acc[kU][Rows][NP];
  LPU_UNROLL for (int u = 0; u < kU; ++u) {
    LPU_UNROLL for (int m = 0; m < Rows; ++m) {
      LPU_UNROLL for (int p = 0; p < NP; ++p) acc[u][m][p] = Isa::zero();
    }
  }
  std::size_t q = 0;
  for (; q + kU <= quads; q += kU) {
    LPU_UNROLL for (int u = 0; u < kU; ++u) {
      dot_quad<Isa, Rows, NP, kPrefetch>(acc[u], w, x, q + u);
    }
  }
  if constexpr (kU > 1) {
    for (; q < quads; ++q) dot_quad<Isa, Rows, NP, kPrefetch>(acc[0], w, x, q);
  }
  LPU_UNROLL for (int m = 0; m < Rows; ++m) {
    LPU_UNROLL for (int p = 0; p < NP; ++p) {
      sum[m][p] = acc[0][m][p];
      LPU_UNROLL for (int u = 1; u < kU; ++u) sum[m][p] = Isa::add(sum[m][p], acc[u][m][p]);
    }
  }
}

// Rows [Start, MR) of a tile over one group: int32 sums, then the fp32
// combine into acc[m][16 p ..]. Passes of Isa::kMaxRows rows each.
template <class Isa, int MR, int NP, bool kPrefetch, int Start = 0>
LPU_KERNEL_INLINE void tile_group(const std::uint8_t* const* blocks, const std::int8_t* const* x,
                                  const std::int32_t* x_sums, const float* x_scales,
                                  float* const* acc, std::size_t quads) {
  constexpr int kRows = (MR - Start) < Isa::kMaxRows ? (MR - Start) : Isa::kMaxRows;
  const std::uint8_t* w[NP];
  for (int p = 0; p < NP; ++p) w[p] = blocks[p] + kVectorBytes;
  typename Isa::IAcc sum[kRows][NP];
  group_dot<Isa, kRows, NP, kPrefetch>(w, x + Start, quads, sum);
  LPU_UNROLL for (int m = 0; m < kRows; ++m) {
    // The weights were stored as w + 128: take 128 * sum(x) back out.
    const std::int32_t corr = x_sums[Start + m] * kWeightOffset;
    LPU_UNROLL for (int p = 0; p < NP; ++p) {
      Isa::combine(sum[m][p], corr, reinterpret_cast<const float*>(blocks[p]), x_scales[Start + m],
                   acc[Start + m] + p * kPanelColumns);
    }
  }
  if constexpr (Start + kRows < MR) {
    tile_group<Isa, MR, NP, kPrefetch, Start + kRows>(blocks, x, x_sums, x_scales, acc, quads);
  }
}

// gemv_s8s8s32_{MR}x16c4: MR rows x one panel over all groups.
template <class Isa, int MR>
LPU_KERNEL_FLATTEN void gemv(const GemvArgs& a) {
  alignas(64) float acc[MR][kPanelColumns] = {};
  float* accp[MR];
  for (int m = 0; m < MR; ++m) accp[m] = acc[m];
  const std::uint8_t* block = a.panel;
  for (std::size_t g = 0; g < a.groups; ++g) {
    const std::int8_t* x[MR];
    std::int32_t sums[MR];
    float scales[MR];
    for (int m = 0; m < MR; ++m) {
      x[m] = a.x + m * a.x_stride + g * a.group_size;
      sums[m] = a.x_sums[m * a.groups + g];
      scales[m] = a.x_scales[m * a.groups + g];
    }
    const std::size_t quads = g + 1 < a.groups ? a.group_quads : a.last_quads;
    tile_group<Isa, MR, 1, true>(&block, x, sums, scales, accp, quads);
    block += a.group_bytes;
  }
  for (int m = 0; m < MR; ++m) std::memcpy(a.y + m * a.y_stride, acc[m], a.columns * sizeof(float));
}

// gemm_s8s8s32_{MR}x{16 NP}c4: MR rows x NP panels over a run of groups.
template <class Isa, int MR, int NP>
LPU_KERNEL_FLATTEN void gemm_tile(const GemmTileArgs& a) {
  for (std::size_t j = 0; j < a.groups; ++j) {
    const std::uint8_t* blocks[NP];
    for (int p = 0; p < NP; ++p) blocks[p] = a.w[p] + j * a.w_group_bytes;
    const std::int8_t* x[MR];
    std::int32_t sums[MR];
    float scales[MR];
    for (int m = 0; m < MR; ++m) {
      x[m] = a.x[m] + j * a.group_size;
      sums[m] = a.x_sums[m][j];
      scales[m] = a.x_scales[m][j];
    }
    const std::size_t quads = j + 1 < a.groups ? a.group_quads : a.last_quads;
    tile_group<Isa, MR, NP, false>(blocks, x, sums, scales, a.acc, quads);
  }
}

}  // namespace lpu::kernels::gemm_body
