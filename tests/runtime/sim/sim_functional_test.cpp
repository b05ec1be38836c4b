// The simulator in functional mode computes, from the compiled Program and
// its SRAM images alone, the int8 forward pass's logits bit for bit, and
// its cycles equal the Program's static latency at every step.
#include <gtest/gtest.h>

#include "include/lpu/int8_session.h"
#include "tests/lib/int8/int8_test_util.h"
#include "tests/runtime/sim/sim_step.h"

namespace lpu {
namespace {

using testing::same_bits;

// Chips: twice the least number that fits.
constexpr std::uint32_t kTwiceTheLeast = 0xffffffffu;

void expect_decode_matches_int8(const std::string& preset, const std::string& target, int group,
                                KvPrecision kv, std::uint32_t chips, int steps) {
  SCOPED_TRACE(preset + " on " + target + " G=" + std::to_string(group) + " " + kv_precision_name(kv) +
               " chips=" + std::to_string(chips));
  const Model m = testing::load_model(testing::synthetic_model_path(preset));
  compiler::CompileOptions o;
  o.slots = 2;
  o.max_context = 64;
  o.group = static_cast<std::uint32_t>(group);
  o.kv = kv_precision_name(kv);
  o.chips = chips == kTwiceTheLeast ? 0 : chips;
  auto run = testing::load_sim(m, target, o);
  if (chips == kTwiceTheLeast && run != nullptr) {
    o.chips = 2 * run->compiled.chips_used;
    run = testing::load_sim(m, target, o);
    ASSERT_NE(run, nullptr);
    EXPECT_EQ(run->compiled.program.meta.chips, o.chips);
  }
  ASSERT_NE(run, nullptr);
  Int8Session ref = testing::make_int8(m, 64, testing::int8_options(group, kv, 1, 2));
  const int vocab = m.config().n_vocab;
  const std::vector<TokenId> a = testing::random_tokens(11, static_cast<std::size_t>(steps), vocab);
  const std::vector<TokenId> b = testing::random_tokens(12, static_cast<std::size_t>(steps), vocab);
  for (int s = 0; s < steps; ++s) {
    const std::vector<SlotTokens> batch = {{0, std::span(&a[static_cast<std::size_t>(s)], 1), false},
                                           {1, std::span(&b[static_cast<std::size_t>(s)], 1), false}};
    auto expected = ref.forward_batch(batch);
    ASSERT_TRUE(expected.ok()) << expected.status().to_string();
    std::uint64_t simulated = 0, static_latency = 0;
    const std::vector<float> got = testing::sim_decode(
        *run, {a[static_cast<std::size_t>(s)], b[static_cast<std::size_t>(s)]}, {s, s}, &simulated, &static_latency);
    ASSERT_TRUE(same_bits(got, *expected)) << "step " << s;
    const std::vector<float> on_cpu = testing::cpu_decode(
        *run, {a[static_cast<std::size_t>(s)], b[static_cast<std::size_t>(s)]}, {s, s});
    ASSERT_TRUE(same_bits(on_cpu, *expected)) << "CPU backend, step " << s;
    ASSERT_EQ(simulated, static_latency) << "step " << s;
  }
}

TEST(SimFunctional, TinyDenseOnCpuHost) {
  expect_decode_matches_int8("tiny-dense", "cpu-host", 32, KvPrecision::kInt8, 0, 12);
}

TEST(SimFunctional, TinyDenseOnTiny) {
  expect_decode_matches_int8("tiny-dense", "tiny", 32, KvPrecision::kInt8, 0, 12);
}


TEST(SimFunctional, TinyDenseF16OnTiny) {
  expect_decode_matches_int8("tiny-dense", "tiny", 32, KvPrecision::kF16, 0, 8);
}

TEST(SimFunctional, TinyDenseOnTinyWithMoreChips) {
  expect_decode_matches_int8("tiny-dense", "tiny", 32, KvPrecision::kInt8, kTwiceTheLeast, 8);
}

TEST(SimFunctional, TinyMoeOnCpuHost) {
  expect_decode_matches_int8("tiny-moe", "cpu-host", 32, KvPrecision::kInt8, 0, 8);
}

TEST(SimFunctional, TinyMoeOnTiny) {
  expect_decode_matches_int8("tiny-moe", "tiny", 32, KvPrecision::kInt8, 0, 8);
}

TEST(SimFunctional, TinyDenseG256OnCpuHost) {
  expect_decode_matches_int8("tiny-dense", "cpu-host", 256, KvPrecision::kInt8, 0, 8);
}

}  // namespace
}  // namespace lpu
