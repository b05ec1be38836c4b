#pragma once
// Helpers of the float kernel tests: the ISA paths to compare, random rows,
// bit comparison and ulp distance.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch/isa.h"
#include "kernels/float/float_kernels.h"

namespace lpu::kernels::testing {

/// Row lengths covering every tail (1..100) and model widths.
inline std::vector<std::size_t> row_lengths() {
  std::vector<std::size_t> n;
  for (std::size_t i = 1; i <= 100; ++i) n.push_back(i);
  for (std::size_t i : {576, 2048, 4097}) n.push_back(i);
  return n;
}

inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

/// Equal bits, or both NaN (NaN payloads may differ between instruction
/// orders and are not part of the contract).
inline bool same_bits(float a, float b) {
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

inline ::testing::AssertionResult all_same_bits(const std::vector<float>& want,
                                                const std::vector<float>& got) {
  if (want.size() != got.size()) return ::testing::AssertionFailure() << "size differs";
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!same_bits(want[i], got[i])) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << std::hexfloat << want[i] << " vs " << got[i];
    }
  }
  return ::testing::AssertionSuccess();
}

/// |got - ref| in units of the float ulp at ref (the subnormal ulp below
/// the normal range).
inline double ulp_error(float got, long double ref) {
  if (std::isinf(ref) || std::isinf(got)) return got == ref ? 0.0 : INFINITY;
  const auto rf = static_cast<float>(ref);
  int e = 0;
  std::frexp(rf == 0.0f ? 1e-45f : rf, &e);
  const long double ulp = std::ldexp(1.0L, std::max(e - 24, -149));
  return static_cast<double>(std::fabs(static_cast<long double>(got) - ref) / ulp);
}

/// The SIMD levels compared against the portable path.
inline std::vector<Isa> simd_isas() { return {Isa::kAvx2, Isa::kAvx512Vnni}; }

inline std::string isa_param_name(const ::testing::TestParamInfo<Isa>& info) {
  return std::string(isa_name(info.param));
}

/// Fixture for one SIMD level; skips when this CPU lacks it.
class FloatIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    simd_ = float_kernels_for(GetParam());
    portable_ = float_kernels_for(Isa::kPortable);
    if (simd_ == nullptr) {
      GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
    }
  }
  const FloatKernels* simd_ = nullptr;
  const FloatKernels* portable_ = nullptr;
};

}  // namespace lpu::kernels::testing
