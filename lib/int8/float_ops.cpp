#include "lib/int8/float_ops.h"

#include <array>
#include <vector>

#include "lib/gguf/dequantize.h"

namespace lpu::int8 {
namespace {

constexpr std::size_t kLanes = 16;

// All 65536 binary16 values as floats (256 KiB), built once: the fp16 KV
// cache converts every key and value it reads.
const std::vector<float>& f16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (std::size_t i = 0; i < t.size(); ++i) {
      t[i] = gguf::f16_to_f32(static_cast<std::uint16_t>(i));
    }
    return t;
  }();
  return table;
}

}  // namespace

float dot_f32(const float* a, const float* b, std::size_t n) {
  std::array<float, kLanes> lane{};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lane[l] = lane[l] + a[i + l] * b[i + l];
  }
  for (std::size_t l = 0; i + l < n; ++l) lane[l] = lane[l] + a[i + l] * b[i + l];
  float t8[8];
  for (int l = 0; l < 8; ++l) t8[l] = lane[l] + lane[l + 8];
  float t4[4];
  for (int l = 0; l < 4; ++l) t4[l] = t8[l] + t8[l + 4];
  return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

void axpy_f32(float a, const float* x, std::size_t n, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = y[i] + a * x[i];
}

float f16_to_f32(std::uint16_t h) { return f16_table()[h]; }

std::uint16_t f32_to_f16(float f) { return gguf::f32_to_f16(f); }

}  // namespace lpu::int8
