// The scalar entry points of the project's elementary functions: the same
// templates the SIMD kernels instantiate, at float.
#include "kernels/math/math.h"

#include "kernels/math/math-inl.h"

namespace lpu::kernels {

float exp_f32(float x) { return exp_v(x); }
float rsqrt_f32(float x) { return rsqrt_v(x); }
float silu_f32(float x) { return silu_v(x); }

}  // namespace lpu::kernels
