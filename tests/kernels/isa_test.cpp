// ISA names, CPU support and the LPU_ISA cap.

#include <gtest/gtest.h>

#include <cstdlib>

#include "kernels/dispatch/int8_kernels.h"
#include "kernels/dispatch/isa.h"

namespace lpu::kernels {
namespace {

TEST(IsaTest, NamesRoundTrip) {
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512Vnni}) {
    EXPECT_EQ(parse_isa(isa_name(isa)), isa);
  }
  EXPECT_FALSE(parse_isa("avx512").has_value());
  EXPECT_FALSE(parse_isa("").has_value());
}

TEST(IsaTest, PortableAlwaysRuns) {
  EXPECT_TRUE(cpu_supports(Isa::kPortable));
  ASSERT_NE(int8_kernels_for(Isa::kPortable), nullptr);
  EXPECT_EQ(int8_kernels_for(Isa::kPortable)->isa, Isa::kPortable);
}

// Without LPU_ISA the active path is the best supported one; with it, the
// active path is no higher than asked. CTest runs this test a second time
// with LPU_ISA=portable (tests/kernels/CMakeLists.txt).
TEST(IsaTest, ActivePathHonoursLpuIsa) {
  Isa best = Isa::kPortable;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512Vnni}) {
    if (cpu_supports(isa)) best = isa;
  }
  const char* env = std::getenv("LPU_ISA");
  const std::optional<Isa> cap = env != nullptr ? parse_isa(env) : std::nullopt;
  const Isa expected = cap && static_cast<int>(*cap) < static_cast<int>(best) ? *cap : best;
  EXPECT_EQ(active_isa(), expected) << "LPU_ISA=" << (env != nullptr ? env : "(unset)");
  EXPECT_EQ(int8_kernels().isa, expected);
}

}  // namespace
}  // namespace lpu::kernels
