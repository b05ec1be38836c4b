// The int8 forward pass's determinism: the same logits, bit for bit, for 1
// and 2 threads, on every kernel path the host can run, and for a sequence
// alone or in any slot of a batch of 1..8 beside other sequences of other
// lengths (prefill and decode).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "include/lpu/int8_session.h"
#include "kernels/dispatch/isa.h"
#include "runtime/session/int8_session_internal.h"
#include "tests/lib/int8/int8_test_util.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

using testing::int8_options;
using testing::make_int8;
using testing::same_bits;

// A fixed workload: three slots with different histories, a batched
// prefill of different lengths, then batched decode steps. Returns every
// logit produced, in order.
std::vector<float> workload(Int8Session& s, int n_vocab) {
  std::vector<float> out;
  auto append = [&](Result<std::vector<float>> r) {
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (r.ok()) out.insert(out.end(), r->begin(), r->end());
  };
  const std::vector<TokenId> a = testing::random_tokens(1, 29, n_vocab);
  const std::vector<TokenId> b = testing::random_tokens(2, 11, n_vocab);
  const std::vector<TokenId> c = testing::random_tokens(3, 5, n_vocab);
  append(s.forward(a, true));
  const std::vector<SlotTokens> prefill = {{2, b, true}, {1, c, false}};
  append(s.forward_batch(prefill));
  for (int step = 0; step < 6; ++step) {
    const std::vector<TokenId> t = testing::random_tokens(100 + step, 3, n_vocab);
    const std::vector<SlotTokens> batch = {
        {0, std::span(&t[0], 1), false}, {1, std::span(&t[1], 1), false}, {2, t, true}};
    append(s.forward_batch(batch));
  }
  return out;
}

void expect_threads_invariant(const std::string& path, const Int8Options& base) {
  const Model m = testing::load_model(path);
  Int8Options o = base;
  o.batch_slots = 3;
  o.threads = 1;
  Int8Session one = make_int8(m, 64, o);
  o.threads = 2;
  Int8Session two = make_int8(m, 64, o);
  const std::vector<float> a = workload(one, m.config().n_vocab);
  const std::vector<float> b = workload(two, m.config().n_vocab);
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(same_bits(a, b)) << path;
}

TEST(Int8InvarianceTest, ThreadsTinyDense) {
  for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
    for (int g : {32, 256}) {
      SCOPED_TRACE(std::string(kv_precision_name(kv)) + " G=" + std::to_string(g));
      expect_threads_invariant(testing::synthetic_model_path("tiny-dense"), int8_options(g, kv));
    }
  }
}

TEST(Int8InvarianceTest, ThreadsTinyMoe) {
  for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
    for (int g : {32, 256}) {
      SCOPED_TRACE(std::string(kv_precision_name(kv)) + " G=" + std::to_string(g));
      expect_threads_invariant(testing::synthetic_model_path("tiny-moe"), int8_options(g, kv));
    }
  }
}

TEST(Int8InvarianceTest, ThreadsSmolLM2) {
  LPU_REQUIRE_FILE(testing::smollm2_q4_1_path(), "SmolLM2-135M-Instruct.Q4_1.gguf");
  expect_threads_invariant(testing::smollm2_q4_1_path().string(), int8_options(256));
}

// Every kernel path this CPU runs gives the portable path's bits.
void expect_isa_invariant(const std::string& path, const Int8Options& base) {
  const Model m = testing::load_model(path);
  Int8Options o = base;
  o.batch_slots = 3;
  o.threads = 2;
  auto portable = int8::create_session(m, 64, o, kernels::Isa::kPortable);
  ASSERT_TRUE(portable.ok()) << portable.status().to_string();
  const std::vector<float> expected = workload(*portable, m.config().n_vocab);
  for (kernels::Isa isa : {kernels::Isa::kAvx2, kernels::Isa::kAvx512Vnni}) {
    if (!kernels::cpu_supports(isa)) {
      auto absent = int8::create_session(m, 64, o, isa);
      EXPECT_EQ(absent.status().code(), StatusCode::kFailedPrecondition);
      continue;
    }
    auto s = int8::create_session(m, 64, o, isa);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    EXPECT_TRUE(same_bits(workload(*s, m.config().n_vocab), expected))
        << path << " on " << kernels::isa_name(isa);
  }
}

TEST(Int8InvarianceTest, IsaPathsSynthetic) {
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
      SCOPED_TRACE(std::string(preset) + " " + kv_precision_name(kv));
      expect_isa_invariant(testing::synthetic_model_path(preset), int8_options(32, kv));
    }
  }
}

TEST(Int8InvarianceTest, IsaPathsSmolLM2) {
  LPU_REQUIRE_FILE(testing::smollm2_q4_1_path(), "SmolLM2-135M-Instruct.Q4_1.gguf");
  expect_isa_invariant(testing::smollm2_q4_1_path().string(), int8_options(256));
}

// The target sequence: a prefill with all logits, then decode steps.
struct Trace {
  std::vector<TokenId> prefill;
  std::vector<TokenId> steps;
};

// Offset of entry `index`'s logits in a forward_batch result.
std::size_t logits_offset(const std::vector<SlotTokens>& batch, std::size_t index,
                          std::size_t vocab) {
  std::size_t rows = 0;
  for (std::size_t i = 0; i < index; ++i) rows += batch[i].all_logits ? batch[i].tokens.size() : 1;
  return rows * vocab;
}

// Runs `trace` in slot `slot` of a batch of `width` slots whose other
// sequences have random histories and take random chunks each step; returns
// the target's logits (prefill rows, then one row per step).
std::vector<float> run_in_batch(Int8Session& s, const Trace& trace, int width, int slot,
                                std::uint64_t seed, int vocab) {
  s.reset();
  std::vector<std::vector<TokenId>> keep;
  auto random = [&](std::uint64_t k, std::size_t n) -> std::span<const TokenId> {
    keep.push_back(testing::random_tokens(seed * 1000 + k, n, vocab));
    return keep.back();
  };
  std::vector<SlotTokens> history;
  for (int o = 0; o < width; ++o) {
    const std::size_t n = (seed + 3 * static_cast<std::uint64_t>(o)) % 9;
    if (o != slot && n > 0) history.push_back({o, random(50 + o, n), o % 2 == 0});
  }
  if (!history.empty()) {
    EXPECT_TRUE(s.forward_batch(history).ok());
  }
  std::vector<float> out;
  for (std::size_t step = 0; step <= trace.steps.size(); ++step) {
    std::vector<SlotTokens> batch;
    std::size_t target = 0;
    for (int o = 0; o < width; ++o) {
      if (o == slot) {
        target = batch.size();
        batch.push_back(step == 0 ? SlotTokens{o, trace.prefill, true}
                                  : SlotTokens{o, std::span(&trace.steps[step - 1], 1), false});
      } else {
        const std::size_t n = 1 + (seed + step * 5 + static_cast<std::size_t>(o)) % 4;
        batch.push_back(
            {o, random(step * 16 + static_cast<std::uint64_t>(o), n), (step + o) % 3 == 0});
      }
    }
    // Odd widths list the entries last slot first, so rows move too.
    if (width % 2 == 1) {
      std::reverse(batch.begin(), batch.end());
      target = batch.size() - 1 - target;
    }
    auto r = s.forward_batch(batch);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (!r.ok()) return out;
    const std::size_t at = logits_offset(batch, target, static_cast<std::size_t>(vocab));
    const std::size_t rows = step == 0 ? trace.prefill.size() : 1;
    out.insert(
        out.end(), r->begin() + static_cast<std::ptrdiff_t>(at),
        r->begin() + static_cast<std::ptrdiff_t>(at + rows * static_cast<std::size_t>(vocab)));
  }
  return out;
}

void expect_batch_invariant(const std::string& path, const Int8Options& base, int max_width) {
  const Model m = testing::load_model(path);
  const int vocab = m.config().n_vocab;
  Int8Options o = base;
  o.batch_slots = max_width;
  Int8Session s = make_int8(m, 64, o);
  const Trace trace{testing::random_tokens(9, 13, vocab), testing::random_tokens(10, 5, vocab)};
  const std::vector<float> alone = run_in_batch(s, trace, 1, 0, 1, vocab);
  ASSERT_EQ(alone.size(),
            (trace.prefill.size() + trace.steps.size()) * static_cast<std::size_t>(vocab));
  for (int width = 1; width <= max_width; ++width) {
    for (int slot = 0; slot < width; ++slot) {
      const std::vector<float> in_batch =
          run_in_batch(s, trace, width, slot, static_cast<std::uint64_t>(width * 10 + slot), vocab);
      EXPECT_TRUE(same_bits(alone, in_batch)) << "batch of " << width << ", slot " << slot;
    }
  }
}

TEST(Int8InvarianceTest, BatchTinyDense) {
  for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
    SCOPED_TRACE(kv_precision_name(kv));
    expect_batch_invariant(testing::synthetic_model_path("tiny-dense"), int8_options(32, kv, 2), 8);
  }
}

TEST(Int8InvarianceTest, BatchTinyMoe) {
  for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
    for (int g : {32, 256}) {
      SCOPED_TRACE(std::string(kv_precision_name(kv)) + " G=" + std::to_string(g));
      expect_batch_invariant(testing::synthetic_model_path("tiny-moe"), int8_options(g, kv, 2), 8);
    }
  }
}

TEST(Int8InvarianceTest, BatchSmolLM2) {
  LPU_REQUIRE_FILE(testing::smollm2_q4_1_path(), "SmolLM2-135M-Instruct.Q4_1.gguf");
  expect_batch_invariant(testing::smollm2_q4_1_path().string(),
                         int8_options(256, KvPrecision::kInt8, 2), 3);
}

}  // namespace
}  // namespace lpu
