#pragma once
// The int8 matmul micro-kernels: int8 x int8 products summed exactly in
// int32 within each group of G, groups combined in fp32 by one fused
// multiply-add each, in ascending group order:
//
//   y[m][n] = 0;  for g = 0, 1, ...:
//     y[m][n] = fma(float(isum[m][n][g]), ws[n][g] * xs[m][g], y[m][n])
//
// Every kernel and every ISA performs exactly these float operations for
// every element, so all of them, whatever the tile, give the same bits.
//
// Two families share one inner body (gemm_s8s8s32-inl.h), templated on the
// row count MR, the panel count NR / 16 and an ISA tag:
//  - gemv_s8s8s32_{MR}x16c4_{isa} (MR = 1..8, decode): one panel of 16
//    output channels over the whole of K, fp32 sums kept by the kernel.
//  - gemm_s8s8s32_{MR}x{NR}c4_{isa} (prefill): MR rows x NR columns over
//    a run of groups, adding into caller-held fp32 accumulators, so the
//    driver can keep a block of weights in L1 while it walks the rows.

#include <cstddef>
#include <cstdint>

namespace lpu::kernels {

/// Largest tile: 8 rows x 3 panels (48 columns).
inline constexpr int kMaxTileRows = 8;
inline constexpr int kMaxTilePanels = 3;

/// One GEMV call: MR rows times one panel, all groups.
struct GemvArgs {
  const std::uint8_t* panel;   ///< the panel's first group block
  std::size_t group_bytes;     ///< bytes between group blocks (64 + 16 G)
  std::size_t groups;          ///< number of groups
  std::size_t group_quads;     ///< 64-byte vectors in a full group (G / 4)
  std::size_t last_quads;      ///< vectors in the last group
  const std::int8_t* x;        ///< activation row 0
  std::size_t x_stride;        ///< bytes between activation rows
  std::size_t group_size;      ///< G
  const float* x_scales;       ///< [row][group], `groups` per row
  const std::int32_t* x_sums;  ///< [row][group], `groups` per row
  float* y;                    ///< y[0][first column of the panel]
  std::size_t y_stride;        ///< floats between rows of y
  std::size_t columns;         ///< valid columns of the panel (1..16)
};

/// One GEMM call: MR rows times NP panels over a run of consecutive groups
/// (one at G >= 256; several at smaller G, so the call and its set-up are
/// paid per ~256 k rather than per group).
struct GemmTileArgs {
  const std::uint8_t* w[kMaxTilePanels];     ///< per panel: block of the first group
  std::size_t w_group_bytes;                 ///< bytes between group blocks (64 + 16 G)
  const std::int8_t* x[kMaxTileRows];        ///< per row: first value of the first group
  const std::int32_t* x_sums[kMaxTileRows];  ///< per row: its groups' sums of q
  const float* x_scales[kMaxTileRows];       ///< per row: its groups' scales
  float* acc[kMaxTileRows];                  ///< per row: NP * 16 fp32 sums (in/out)
  std::size_t groups;                        ///< groups in this call
  std::size_t group_size;                    ///< G
  std::size_t group_quads;                   ///< vectors per group but the call's last
  std::size_t last_quads;                    ///< vectors in the call's last group
};

using GemvFn = void (*)(const GemvArgs& args);
using GemmTileFn = void (*)(const GemmTileArgs& args);

/// The kernels one ISA provides. gemv[MR - 1] for MR = 1..8;
/// gemm[MR - 1][NP - 1] for MR = 1..8 and NP = 1..max_panels.
struct GemmKernelSet {
  GemvFn gemv[kMaxTileRows];
  GemmTileFn gemm[kMaxTileRows][kMaxTilePanels];
  int max_panels;
};

const GemmKernelSet& gemm_kernels_portable();
const GemmKernelSet& gemm_kernels_avx2();
const GemmKernelSet& gemm_kernels_avx512vnni();

#define LPU_INT8_FOR_EACH_MR(F, ...)                                                        \
  F(1, __VA_ARGS__)                                                                         \
  F(2, __VA_ARGS__)                                                                         \
  F(3, __VA_ARGS__) F(4, __VA_ARGS__) F(5, __VA_ARGS__) F(6, __VA_ARGS__) F(7, __VA_ARGS__) \
      F(8, __VA_ARGS__)
#define LPU_DECLARE_GEMV_S8(MR, isa) void gemv_s8s8s32_##MR##x16c4_##isa(const GemvArgs& args);
#define LPU_DECLARE_GEMM_S8(MR, NR, isa) \
  void gemm_s8s8s32_##MR##x##NR##c4_##isa(const GemmTileArgs& args);
#define LPU_DECLARE_GEMM_S8_16(MR, isa) LPU_DECLARE_GEMM_S8(MR, 16, isa)
#define LPU_DECLARE_GEMM_S8_32(MR, isa) LPU_DECLARE_GEMM_S8(MR, 32, isa)
#define LPU_DECLARE_GEMM_S8_48(MR, isa) LPU_DECLARE_GEMM_S8(MR, 48, isa)

LPU_INT8_FOR_EACH_MR(LPU_DECLARE_GEMV_S8, portable)
LPU_INT8_FOR_EACH_MR(LPU_DECLARE_GEMV_S8, avx2)
LPU_INT8_FOR_EACH_MR(LPU_DECLARE_GEMV_S8, avx512vnni)
LPU_INT8_FOR_EACH_MR(LPU_DECLARE_GEMM_S8_16, portable)
LPU_INT8_FOR_EACH_MR(LPU_DECLARE_GEMM_S8_16, avx2)
LPU_INT8_FOR_EACH_MR(LPU_DECLARE_GEMM_S8_16, avx512vnni)
LPU_INT8_FOR_EACH_MR(LPU_DECLARE_GEMM_S8_32, avx512vnni)
LPU_INT8_FOR_EACH_MR(LPU_DECLARE_GEMM_S8_48, avx512vnni)

}  // namespace lpu::kernels
