#pragma once
// GemmTester: a chained builder for int8 matmul tests. It makes int8
// weights and activations of the requested shape and content, runs a
// matmul through the packed kernels and compares every output bit for bit
// with the scalar int64 oracle (kernels/reference):
//
//   GemmTester().m(3).n(16).k(33).group(32).threads(2).Test();
//
// Header-only; link lpu_kernels.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/dispatch/int8_kernels.h"
#include "kernels/dispatch/thread_pool.h"
#include "kernels/gemm/matmul_s8.h"
#include "kernels/pack/packed_weights.h"
#include "kernels/quantize/quantized_rows.h"
#include "kernels/reference/int8_reference.h"

namespace lpu::testing {

/// What the int8 values of an operand are.
enum class Int8Fill {
  kRandom,    ///< uniform over all 256 values, -128 included
  kAllMin,    ///< every value -128 (the largest products, never produced by our quantiser)
  kAllMax,    ///< every value 127
  kExtremes,  ///< random choice of -128, -127, 127, 0
};

/// splitmix64: a tiny, fully specified generator, so test data are the same
/// with every standard library.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Signature of the function under test (kernels::matmul_s8 by default).
using MatmulS8Fn = std::function<void(const kernels::PackedWeights&, const kernels::QuantizedRows&,
                                      float*, const kernels::MatmulOptions&)>;

class GemmTester {
 public:
  GemmTester& m(std::size_t v) {
    m_ = v;
    return *this;
  }
  GemmTester& n(std::size_t v) {
    n_ = v;
    return *this;
  }
  GemmTester& k(std::size_t v) {
    k_ = v;
    return *this;
  }
  GemmTester& group(std::size_t v) {
    group_ = v;
    return *this;
  }
  GemmTester& threads(int v) {
    threads_ = v;
    return *this;
  }
  GemmTester& seed(std::uint64_t v) {
    seed_ = v;
    return *this;
  }
  GemmTester& weights(Int8Fill f) {
    w_fill_ = f;
    return *this;
  }
  GemmTester& activations(Int8Fill f) {
    x_fill_ = f;
    return *this;
  }
  /// Kernel path (null: the active one).
  GemmTester& kernels(const kernels::Int8Kernels* k) {
    kernels_ = k;
    return *this;
  }

  std::size_t m() const { return m_; }
  std::size_t n() const { return n_; }
  std::size_t k() const { return k_; }

  /// Weights [n][k] and activations [m][k] as configured.
  kernels::QuantizedRows make_weights() const { return make_rows(n_, w_fill_, seed_ * 2 + 1); }
  kernels::QuantizedRows make_activations() const { return make_rows(m_, x_fill_, seed_ * 2 + 2); }

  /// y[m][n] from `fn` on packed weights, with the configured threads and path.
  std::vector<float> Run(const kernels::PackedWeights& w, const kernels::QuantizedRows& x,
                         const MatmulS8Fn& fn = default_fn()) const {
    std::unique_ptr<kernels::ThreadPool> pool;
    if (threads_ > 1) pool = std::make_unique<kernels::ThreadPool>(threads_);
    kernels::MatmulOptions options;
    options.pool = pool.get();
    options.kernels = kernels_;
    std::vector<float> y(x.rows() * w.n(), -1.0f);
    fn(w, x, y.data(), options);
    return y;
  }

  /// Runs `fn` and expects every output to equal the oracle's bits.
  void Test(const MatmulS8Fn& fn = default_fn()) const {
    const kernels::QuantizedRows w = make_weights();
    const kernels::QuantizedRows x = make_activations();
    std::vector<float> expected(m_ * n_);
    kernels::matmul_s8_reference(w, x, expected.data(), n_);
    const std::vector<float> got = Run(kernels::pack_s8_16c4(w), x, fn);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (bits(got[i]) != bits(expected[i]) && ++mismatches <= 5) {
        ADD_FAILURE() << describe() << ": y[" << i / n_ << "][" << i % n_ << "] = " << got[i]
                      << ", oracle " << expected[i];
      }
    }
    EXPECT_EQ(mismatches, 0u) << describe();
  }

  std::string describe() const {
    return "m=" + std::to_string(m_) + " n=" + std::to_string(n_) + " k=" + std::to_string(k_) +
           " G=" + std::to_string(group_) + " threads=" + std::to_string(threads_) + " isa=" +
           (kernels_ != nullptr ? std::string(kernels::isa_name(kernels_->isa)) : "active");
  }

  static std::uint32_t bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof(u));
    return u;
  }

  static MatmulS8Fn default_fn() {
    return [](const kernels::PackedWeights& w, const kernels::QuantizedRows& x, float* y,
              const kernels::MatmulOptions& o) { kernels::matmul_s8(w, x, y, o); };
  }

 private:
  static std::int8_t draw(Int8Fill fill, std::uint64_t& state) {
    switch (fill) {
      case Int8Fill::kAllMin:
        return -128;
      case Int8Fill::kAllMax:
        return 127;
      case Int8Fill::kExtremes: {
        static constexpr std::int8_t kValues[] = {-128, -127, 127, 0};
        return kValues[splitmix64(state) % 4];
      }
      case Int8Fill::kRandom:
        break;
    }
    return static_cast<std::int8_t>(splitmix64(state) & 0xFF);
  }

  // Scales are random positive floats over 16 binades, so the fp32 combine
  // rounds differently in every element.
  kernels::QuantizedRows make_rows(std::size_t rows, Int8Fill fill, std::uint64_t stream) const {
    kernels::QuantizedRows q(rows, k_, group_);
    std::uint64_t state = stream * 0x632BE59BD9B4E019ull;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t i = 0; i < k_; ++i) q.row(r)[i] = draw(fill, state);
      for (std::size_t g = 0; g < q.groups(); ++g) {
        const std::uint64_t b = splitmix64(state);
        const float mantissa = 1.0f + static_cast<float>(b >> 40) * 0x1.0p-24f;
        q.scales(r)[g] = std::ldexp(mantissa, -4 - static_cast<int>(b % 16));
      }
    }
    q.update_sums();
    return q;
  }

  std::size_t m_ = 1;
  std::size_t n_ = 16;
  std::size_t k_ = 64;
  std::size_t group_ = 32;
  int threads_ = 1;
  std::uint64_t seed_ = 1;
  Int8Fill w_fill_ = Int8Fill::kRandom;
  Int8Fill x_fill_ = Int8Fill::kRandom;
  const kernels::Int8Kernels* kernels_ = nullptr;
};

}  // namespace lpu::testing
