#pragma once
// Counter-based random numbers: every value is a pure function of
// (seed, stream, counter), so any element of any tensor can be produced
// independently, in any order, on any thread, and comes out bit-identical on
// every machine. The generator is Philox4x32-10 (Salmon et al., SC'11); the
// uniform and normal transforms use only integer operations and IEEE + - * /
// and sqrt, which are correctly rounded everywhere (no libm log/exp/cos and no
// <random> distributions, whose results differ between standard libraries).

#include <array>
#include <cstddef>
#include <cstdint>

namespace lpu::rng {

/// One Philox4x32 block with 10 rounds: 128 bits from a 128-bit counter and a
/// 64-bit key, as specified by Random123 (its known-answer vectors hold).
std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter,
                                           std::array<std::uint32_t, 2> key);

/// 64 random bits: words 0 and 1 of the Philox block with counter
/// (counter lo, counter hi, stream lo, stream hi) and key (seed lo, seed hi).
std::uint64_t bits64(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter);

/// Uniform in [0, 1): the top 24 bits of bits64 times 2^-24 (every float
/// k * 2^-24 equally likely).
float uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter);

/// Uniform in (0, 1): the top 52 bits k of bits64 as (2k + 1) * 2^-53, an
/// exact odd multiple of 2^-53; never 0 or 1, and 1 - u is exact too, so
/// both tails are equally fine-grained and safe to take a logarithm of.
double uniform_open(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter);

/// Standard normal: the inverse normal CDF of uniform_open (Acklam's rational
/// approximation, relative error below 1.2e-9, with the logarithm below for
/// the tails). One value per counter, no rejection loop.
double normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter);

/// Natural logarithm of a positive finite `x`, from its binary exponent and
/// the atanh series of its mantissa: within a few ulp of the exact value and
/// bit-identical everywhere. Returns -inf for 0 and NaN for negative or NaN.
double log_deterministic(double x);

/// A (seed, stream) pair with the functions above as members: a convenience
/// for code that draws many counters from one stream.
class CounterRng {
 public:
  CounterRng(std::uint64_t seed, std::uint64_t stream) : seed_(seed), stream_(stream) {}

  std::uint64_t bits64(std::uint64_t counter) const { return rng::bits64(seed_, stream_, counter); }
  float uniform_float(std::uint64_t counter) const {
    return rng::uniform_float(seed_, stream_, counter);
  }
  double uniform_open(std::uint64_t counter) const {
    return rng::uniform_open(seed_, stream_, counter);
  }
  double normal(std::uint64_t counter) const { return rng::normal(seed_, stream_, counter); }

 private:
  std::uint64_t seed_;
  std::uint64_t stream_;
};

/// FNV-1a 64-bit hash of a byte string: a stable stream id for a name.
std::uint64_t fnv1a64(const char* data, std::size_t size);

}  // namespace lpu::rng
