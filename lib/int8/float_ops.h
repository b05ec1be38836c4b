#pragma once
// The fp32 helpers of the int8 forward pass beyond the float kernels: the
// fixed-order dot and axpy (kernels/float/dot_axpy.h) and binary16
// conversion for the fp16 KV cache.

#include <cstdint>

#include "kernels/float/dot_axpy.h"

namespace lpu::int8 {

using kernels::axpy_f32;
using kernels::dot_f32;

/// The float value of an IEEE binary16 bit pattern (exact; a table lookup).
float f16_to_f32(std::uint16_t h);

/// float to binary16, round to nearest even.
std::uint16_t f32_to_f16(float f);

}  // namespace lpu::int8
