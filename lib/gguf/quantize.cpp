#include "lib/gguf/quantize.h"

#include <cmath>
#include <cstring>

#include "lib/gguf/dequantize.h"

namespace lpu::gguf {
namespace {

void store_u16(std::uint8_t* p, std::uint16_t v) { std::memcpy(p, &v, 2); }

void quantize_block_q8_0(const float* x, std::uint8_t* out) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;  // written as ggml's MAX(a, b) macro
  }
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(out, f32_to_f16(d));
  auto* qs = reinterpret_cast<std::int8_t*>(out + 2);
  for (int j = 0; j < 32; ++j) {
    // Finite input gives |q| <= 127. A block holding inf or NaN gives NaN
    // here; store 0 rather than convert NaN to an integer (undefined).
    const float q = std::roundf(x[j] * id);
    qs[j] = std::isnan(q) ? 0 : static_cast<std::int8_t>(q);
  }
}

}  // namespace

std::uint16_t f32_to_bf16(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFF) > 0x7F800000) return static_cast<std::uint16_t>((u >> 16) | 64);
  return static_cast<std::uint16_t>((u + (0x7FFF + ((u >> 16) & 1))) >> 16);
}

bool can_quantize(TensorType type) {
  switch (type) {
    case TensorType::kF32:
    case TensorType::kF16:
    case TensorType::kBF16:
    case TensorType::kQ8_0:
      return true;
    default:
      return false;
  }
}

void quantize_row(TensorType type, const float* src, std::uint8_t* dst, std::uint64_t n) {
  if (n == 0) return;  // an empty tensor's pointers may be null: no memcpy on them
  switch (type) {
    case TensorType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    case TensorType::kF16:
      for (std::uint64_t i = 0; i < n; ++i) store_u16(dst + 2 * i, f32_to_f16(src[i]));
      return;
    case TensorType::kBF16:
      for (std::uint64_t i = 0; i < n; ++i) store_u16(dst + 2 * i, f32_to_bf16(src[i]));
      return;
    case TensorType::kQ8_0:
      for (std::uint64_t b = 0; b < n / 32; ++b) quantize_block_q8_0(src + 32 * b, dst + 34 * b);
      return;
    default:
      return;  // callers check can_quantize() first
  }
}

}  // namespace lpu::gguf
