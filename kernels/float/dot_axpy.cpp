#include "kernels/float/dot_axpy.h"

#include <array>

namespace lpu::kernels {
namespace {
constexpr std::size_t kLanes = 16;
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

}  // namespace lpu::kernels
