#include "lib/core/rng.h"

#include <bit>
#include <cmath>
#include <limits>

namespace lpu::rng {
namespace {

// Philox4x32 multipliers and Weyl key increments (Random123).
constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr std::uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr std::uint32_t kPhiloxW1 = 0xBB67AE85u;

// ln 2 split so that e * kLn2Hi is exact for any binary exponent e (the low
// 32 bits of kLn2Hi's mantissa are zero), as in the classic fdlibm log.
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kSqrt2 = 1.41421356237309504880;

// Acklam's inverse-normal-CDF coefficients.
constexpr double kA[6] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                          1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
constexpr double kB[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                          6.680131188771972e+01, -1.328068155288572e+01};
constexpr double kC[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                          -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
constexpr double kD[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                          3.754408661907416e+00};
constexpr double kPLow = 0.02425;

// The lower tail of the inverse CDF at p < kPLow (negative result).
double normal_tail(double p) {
  const double q = std::sqrt(-2.0 * log_deterministic(p));
  const double num = ((((kC[0] * q + kC[1]) * q + kC[2]) * q + kC[3]) * q + kC[4]) * q + kC[5];
  const double den = (((kD[0] * q + kD[1]) * q + kD[2]) * q + kD[3]) * q + 1.0;
  return num / den;
}

double uniform_open_of_bits(std::uint64_t bits) {
  return static_cast<double>(2 * (bits >> 12) + 1) * 0x1p-53;
}

// Acklam's inverse normal CDF at p in (0, 1).
double normal_of_uniform(double p) {
  if (p < kPLow) return normal_tail(p);
  if (p > 1.0 - kPLow) return -normal_tail(1.0 - p);
  const double q = p - 0.5;
  const double r = q * q;
  const double num =
      (((((kA[0] * r + kA[1]) * r + kA[2]) * r + kA[3]) * r + kA[4]) * r + kA[5]) * q;
  const double den = ((((kB[0] * r + kB[1]) * r + kB[2]) * r + kB[3]) * r + kB[4]) * r + 1.0;
  return num / den;
}

}  // namespace

std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> c,
                                           std::array<std::uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    if (round != 0) {
      k[0] += kPhiloxW0;
      k[1] += kPhiloxW1;
    }
    const std::uint64_t p0 = static_cast<std::uint64_t>(kPhiloxM0) * c[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kPhiloxM1) * c[2];
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32);
    const auto lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32);
    const auto lo1 = static_cast<std::uint32_t>(p1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }
  return c;
}

std::uint64_t bits64(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  const auto r =
      philox4x32_10({static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32),
                     static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)},
                    {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  return static_cast<std::uint64_t>(r[0]) | (static_cast<std::uint64_t>(r[1]) << 32);
}

float uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  const auto top24 = static_cast<std::uint32_t>(bits64(seed, stream, counter) >> 40);
  return static_cast<float>(top24) * 0x1p-24f;
}

double uniform_open(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  return uniform_open_of_bits(bits64(seed, stream, counter));
}

double log_deterministic(double x) {
  if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  int e = 0;
  if (x < 0x1p-1022) {  // subnormal: scale into the normal range first
    x *= 0x1p54;
    e = -54;
  }
  const auto bits = std::bit_cast<std::uint64_t>(x);
  e += static_cast<int>((bits >> 52) & 0x7FF) - 1023;
  double m = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
  if (m > kSqrt2) {  // keep m in [sqrt(1/2), sqrt(2)] so |s| <= 0.172
    m *= 0.5;
    e += 1;
  }
  // log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...); with s^2 <= 0.0295 the
  // terms past s^23/23 are below 1e-19 relative.
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double poly = 1.0 / 23.0;
  for (int k = 21; k >= 1; k -= 2) poly = poly * s2 + 1.0 / static_cast<double>(k);
  const double log_m = 2.0 * s * poly;
  const double de = static_cast<double>(e);
  return de * kLn2Hi + (de * kLn2Lo + log_m);
}

double normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  return normal_of_uniform(uniform_open_of_bits(bits64(seed, stream, counter)));
}

std::uint64_t fnv1a64(const char* data, std::size_t size) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001B3ull;
  }
  return h;
}

}  // namespace lpu::rng
