// int8 GEMV/GEMM kernels against the scalar int64 oracle, on every ISA path
// this CPU has, over decode and prefill shapes, K not a multiple of the
// vector width or of G, odd N and extreme values (-128 included).

#include <gtest/gtest.h>

#include <vector>

#include "kernels/dispatch/int8_kernels.h"
#include "tests/testing/gemm_tester.h"

namespace lpu::kernels {
namespace {

using testing::GemmTester;
using testing::Int8Fill;

class GemmS8Test : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    kernels_ = int8_kernels_for(GetParam());
    if (kernels_ == nullptr) {
      GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam()) << " (cpu_supports is false)";
    }
  }
  GemmTester tester() const { return GemmTester().kernels(kernels_); }
  const Int8Kernels* kernels_ = nullptr;
};

TEST_P(GemmS8Test, DecodeRowsMatchOracle) {
  for (std::size_t g : {32, 64, 256, 320}) {
    for (std::size_t k : {33, 100, 257, 321}) {
      for (std::size_t n : {1, 15, 16, 17, 33}) {
        for (std::size_t m = 1; m <= 8; ++m)
          tester().m(m).n(n).k(k).group(g).seed(m * n + k).Test();
      }
    }
  }
}

TEST_P(GemmS8Test, PrefillRowsMatchOracle) {
  for (std::size_t g : {32, 256, 320}) {
    for (std::size_t k : {33, 257, 321}) {
      for (std::size_t n : {1, 17, 47, 48, 97, 200}) {
        for (std::size_t m : {9, 15, 16, 17, 33, 71}) {
          tester().m(m).n(n).k(k).group(g).seed(m + n * k).Test();
        }
      }
    }
  }
}

TEST_P(GemmS8Test, TinyK) {
  for (std::size_t k = 1; k <= 9; ++k) {
    for (std::size_t m : {1, 3, 8, 16, 19}) tester().m(m).n(19).k(k).group(32).Test();
  }
}

TEST_P(GemmS8Test, ExtremeValues) {
  const Int8Fill fills[] = {Int8Fill::kAllMin, Int8Fill::kAllMax, Int8Fill::kExtremes};
  for (Int8Fill wf : fills) {
    for (Int8Fill xf : fills) {
      for (std::size_t m : {1, 5, 8, 16, 23}) {
        tester().m(m).n(33).k(1000).group(320).weights(wf).activations(xf).Test();
        tester().m(m).n(17).k(257).group(32).weights(wf).activations(xf).Test();
      }
    }
  }
}

// The largest group: every int32 sum near its limit (65536 * 128 * 128 =
// 2^30), and the +128 offset sums beyond 2^30 before the correction.
TEST_P(GemmS8Test, LargestGroupStaysExact) {
  for (Int8Fill f : {Int8Fill::kAllMin, Int8Fill::kExtremes}) {
    tester().m(1).n(16).k(70000).group(65536).weights(f).activations(f).Test();
    tester().m(9).n(16).k(65536).group(65536).weights(f).activations(Int8Fill::kAllMin).Test();
  }
}

TEST_P(GemmS8Test, ManyTasks) {
  tester().m(1).n(1000).k(640).group(64).Test();
  tester().m(6).n(2049).k(320).group(320).Test();
  tester().m(300).n(200).k(100).group(32).Test();
}

INSTANTIATE_TEST_SUITE_P(Isas, GemmS8Test,
                         ::testing::Values(Isa::kPortable, Isa::kAvx2, Isa::kAvx512Vnni),
                         [](const ::testing::TestParamInfo<Isa>& param) {
                           return std::string(isa_name(param.param));
                         });

}  // namespace
}  // namespace lpu::kernels
