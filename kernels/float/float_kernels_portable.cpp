// The float kernels' portable path: the shared bodies at F = float, 16
// scalar lanes. Compiled with the baseline flags only.
#include "kernels/float/float_kernels-inl.h"

namespace lpu::kernels {

LPU_DEFINE_FLOAT_KERNELS(float, portable)

}  // namespace lpu::kernels
