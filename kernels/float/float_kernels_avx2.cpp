// The float kernels' AVX2 path: the shared bodies on 8-float batches, two
// per 16-lane block. The only file of the float kernels built with -mavx2.
#include "kernels/math/vec_xsimd.h"  // first: see float_kernels-inl.h

#include "kernels/float/float_kernels-inl.h"

namespace lpu::kernels {

using Avx2Float = xsimd::batch<float, xsimd::avx2>;
LPU_DEFINE_FLOAT_KERNELS(Avx2Float, avx2)

}  // namespace lpu::kernels
