// sin and cos in float with an exact argument reduction.
//
// RoPE angles are pos * theta_i and reach 1e5 rad and beyond (long contexts),
// where a float Cody-Waite reduction loses bits. Instead x = m * 2^e (m a
// 24-bit integer) is multiplied by a 96-bit window of the binary expansion
// of 2/pi with 128-bit integer arithmetic (Payne-Hanek): the bits of 2/pi
// above the window only add multiples of 4 quadrants, the bits below it
// change the reduced value by less than 2^-70 of a quadrant. The remainder
// r in [-pi/4, pi/4] is then evaluated with Taylor series in double, whose
// truncation and rounding errors (below 2^-50 relative) are far below the
// final rounding to float. Scalar on purpose: RoPE needs one sin and cos
// per pair and position, shared by all heads and layers.

#include <bit>
#include <cmath>
#include <cstdint>

#include "kernels/math/math.h"

namespace lpu::kernels {
namespace {

__extension__ using U128 = unsigned __int128;
__extension__ using I128 = __int128;

// 2/pi = 0.A2F9836E 4E441529 ... (hexadecimal), 256 bits; the reduction
// reads bits up to position 198 (the largest float exponent plus the
// window).
constexpr std::uint32_t kTwoOverPi[8] = {0xA2F9836E, 0x4E441529, 0xFC2757D1, 0xF534DDC0,
                                         0xDB629599, 0x3C439041, 0xFE5163AB, 0xDEBBC561};

constexpr double kPiOver2 = 1.57079632679489661923;
constexpr double kPiOver4 = 0.78539816339744830962;

std::uint64_t two_over_pi_word(int index) {
  return index >= 0 && index < 8 ? kTwoOverPi[index] : 0;
}

// Bits start+1 .. start+32 of 2/pi (bit 1 has weight 1/2); bits before the
// binary point (start < 0) are zero.
std::uint32_t two_over_pi_bits(int start) {
  const int word = start >= 0 ? start / 32 : -((-start + 31) / 32);
  const int shift = start - 32 * word;
  const std::uint64_t pair = (two_over_pi_word(word) << 32) | two_over_pi_word(word + 1);
  return static_cast<std::uint32_t>((pair << shift) >> 32);
}

struct Reduced {
  double r;           // |x| - k * pi/2, in [-pi/4, pi/4]
  unsigned quadrant;  // k mod 4
};

// Reduces a finite, non-negative float.
Reduced reduce(float ax) {
  if (static_cast<double>(ax) <= kPiOver4) return {static_cast<double>(ax), 0};
  const auto bits = std::bit_cast<std::uint32_t>(ax);
  const std::uint32_t mantissa = (bits & 0x7FFFFFu) | 0x800000u;  // ax >= pi/4 is normal
  const int e = static_cast<int>(bits >> 23) - 150;               // ax = mantissa * 2^e
  // Window of 96 bits whose lowest has weight 2^-(s+96); with s = e - 2
  // the product's bits of weight >= 4 (whole turns) fall outside it.
  const int s = e - 2;
  const U128 window = (static_cast<U128>(two_over_pi_bits(s)) << 64) |
                      (static_cast<U128>(two_over_pi_bits(s + 32)) << 32) |
                      two_over_pi_bits(s + 64);
  const U128 product = window * mantissa;  // (ax * 2/pi) mod 4, times 2^94
  auto quadrant = static_cast<unsigned>(product >> 94) & 3u;
  const U128 kOne = static_cast<U128>(1) << 94;
  auto frac = static_cast<I128>(product & (kOne - 1));
  if (frac >= static_cast<I128>(kOne >> 1)) {  // round to the nearest quadrant
    frac -= static_cast<I128>(kOne);
    quadrant = (quadrant + 1) & 3u;
  }
  return {static_cast<double>(frac) * 0x1p-94 * kPiOver2, quadrant};
}

// Taylor series to r^15 (sin) and r^16 (cos): at |r| = pi/4 the first
// omitted terms are 5e-17 and 2e-18.
double sin_series(double r) {
  const double r2 = r * r;
  double p = -1.0 / 1307674368000.0;  // -1/15!
  p = p * r2 + 1.0 / 6227020800.0;    // 1/13!
  p = p * r2 - 1.0 / 39916800.0;      // -1/11!
  p = p * r2 + 1.0 / 362880.0;        // 1/9!
  p = p * r2 - 1.0 / 5040.0;          // -1/7!
  p = p * r2 + 1.0 / 120.0;           // 1/5!
  p = p * r2 - 1.0 / 6.0;             // -1/3!
  return r + (r * r2) * p;
}

double cos_series(double r) {
  const double r2 = r * r;
  double p = 1.0 / 20922789888000.0;  // 1/16!
  p = p * r2 - 1.0 / 87178291200.0;   // -1/14!
  p = p * r2 + 1.0 / 479001600.0;     // 1/12!
  p = p * r2 - 1.0 / 3628800.0;       // -1/10!
  p = p * r2 + 1.0 / 40320.0;         // 1/8!
  p = p * r2 - 1.0 / 720.0;           // -1/6!
  p = p * r2 + 1.0 / 24.0;            // 1/4!
  p = p * r2 - 1.0 / 2.0;             // -1/2!
  return 1.0 + r2 * p;
}

}  // namespace

void sincos_f32(float x, float* sin_out, float* cos_out) {
  const float ax = std::fabs(x);
  if (!(ax <= 3.4028235e38f)) {  // +-inf or NaN
    *sin_out = x - x;
    *cos_out = x - x;
    return;
  }
  const Reduced red = reduce(ax);
  const double s = sin_series(red.r);
  const double c = cos_series(red.r);
  double sin_ax = 0.0;
  double cos_ax = 0.0;
  switch (red.quadrant) {
    case 0:
      sin_ax = s;
      cos_ax = c;
      break;
    case 1:
      sin_ax = c;
      cos_ax = -s;
      break;
    case 2:
      sin_ax = -s;
      cos_ax = -c;
      break;
    default:
      sin_ax = -c;
      cos_ax = s;
      break;
  }
  *sin_out = static_cast<float>(std::signbit(x) ? -sin_ax : sin_ax);
  *cos_out = static_cast<float>(cos_ax);
}

float sin_f32(float x) {
  float s = 0.0f;
  float c = 0.0f;
  sincos_f32(x, &s, &c);
  return s;
}

float cos_f32(float x) {
  float s = 0.0f;
  float c = 0.0f;
  sincos_f32(x, &s, &c);
  return c;
}

}  // namespace lpu::kernels
