// The float kernels' AVX-512 path: the shared bodies on 16-float batches,
// one per 16-lane block. The only file of the float kernels built with
// -mavx512f.
// GCC 12's AVX-512 intrinsics (shifts, conversions, extracts) pass a
// deliberately undefined register (_mm512_undefined_*) as the unused merge
// source, which its own -W(maybe-)uninitialized then reports: a known false
// positive of that compiler's headers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "kernels/math/vec_xsimd.h"  // first: see float_kernels-inl.h

#include "kernels/float/float_kernels-inl.h"

namespace lpu::kernels {

using Avx512Float = xsimd::batch<float, xsimd::avx512f>;
LPU_DEFINE_FLOAT_KERNELS(Avx512Float, avx512f)

}  // namespace lpu::kernels
