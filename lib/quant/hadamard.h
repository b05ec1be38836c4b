#pragma once
// A randomised Hadamard rotation of the residual stream: R = D H / sqrt(n),
// D a diagonal of seeded random signs and H a Hadamard matrix of order n
// built as a Kronecker product of Sylvester's H2 and Paley's H12 and H20
// (so n = 2^a 12^b 20^c: 576 = 12 x 12 x 4, 2048, 4096, 5120, ...).
// R is orthogonal, spreads one channel's magnitude evenly over all n, and
// x R costs n (2a + 12b + 20c) additions. Every output is the same chain of
// float additions and sign flips, then one product with float(1/sqrt(n)),
// in a fixed order: the same bits on every machine.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "include/lpu/status.h"

namespace lpu::quant {

class HadamardRotation {
 public:
  /// The rotation of order n with the signs of `seed`; an error names n
  /// when it is not 2^a 12^b 20^c.
  static Result<HadamardRotation> create(std::size_t n, std::uint64_t seed);
  /// Whether create(n, ...) succeeds.
  static bool supports(std::size_t n);

  std::size_t size() const { return n_; }
  /// x <- x R, for a row vector x of size() values.
  void rotate(std::span<float> x) const;
  /// Entry (i, j) of R, for tests.
  float entry(std::size_t i, std::size_t j) const;

 private:
  HadamardRotation() = default;
  std::size_t n_ = 0;
  std::vector<std::size_t> factors_;  // Kronecker factors, most significant first
  std::vector<float> signs_;          // D
  float scale_ = 1.0f;                // float(1 / sqrt(n))
};

}  // namespace lpu::quant
