// The sampler on small hand-computed cases: each option alone, its edges,
// and the draw (which depends on the seed and the step only).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "include/lpu/sampling.h"
#include "lib/core/rng.h"

namespace lpu {
namespace {

Sampler make(const SamplingOptions& o, int n_vocab) {
  auto s = Sampler::create(o, n_vocab);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::move(s).value();
}

TokenId pick(const Sampler& s, const std::vector<float>& logits, const std::vector<TokenId>& history = {},
             std::uint64_t step = 0) {
  auto r = s.sample(logits, history, step);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? r->token : -1;
}

// How often each token is drawn over steps 0..n-1.
std::map<TokenId, int> histogram(const Sampler& s, const std::vector<float>& logits, int n) {
  std::map<TokenId, int> h;
  for (int i = 0; i < n; ++i) ++h[pick(s, logits, {}, static_cast<std::uint64_t>(i))];
  return h;
}

TEST(Sampler, GreedyTakesTheHighestLogitAndTheLowestIdAmongEquals) {
  const Sampler s = make({}, 4);
  EXPECT_EQ(pick(s, {0.5f, 2.0f, -1.0f, 2.0f}), 1);
  EXPECT_EQ(pick(s, {NAN, -5.0f, -7.0f, -6.0f}), 1);  // NaN never wins
}

TEST(Sampler, TemperatureDrawFollowsTheProbabilities) {
  // p = softmax(log 1, log 3) = (0.25, 0.75). Unsorted (no top-k or
  // top-p), the draw walks the tokens by id: u (from the generator at
  // (seed, step)) picks 0 when u < 0.25 and 1 otherwise.
  SamplingOptions o;
  o.temperature = 1.0f;
  o.seed = 7;
  const Sampler s = make(o, 2);
  const std::vector<float> l = {0.0f, std::log(3.0f)};
  for (std::uint64_t step = 0; step < 200; ++step) {
    const double u = rng::uniform_open(7, 0x73616d706c65ull, step);
    // The weights are exp(l - max): 1/3 and 1 (within the exp's rounding).
    const TokenId want = u * (1.0 + 1.0 / 3.0) < 1.0 / 3.0 ? 0 : 1;
    if (std::fabs(u - 0.25) < 1e-6) continue;  // too close to call by hand
    EXPECT_EQ(pick(s, l, {}, step), want) << "step " << step;
  }
  const auto h = histogram(s, l, 4000);
  EXPECT_NEAR(h.at(1) / 4000.0, 0.75, 0.03);
}

// A vocabulary of many blocks: the draw finds the block, then the token in
// it. Three equal tokens in the first, third and last blocks of 64 (and a
// top-k that sorts them) each take a third of u's range.
TEST(Sampler, TheDrawWalksAcrossBlocksOfTokens) {
  std::vector<float> l(1000, -INFINITY);
  l[5] = l[130] = l[999] = 2.0f;
  for (const int top_k : {0, 10}) {
    SamplingOptions o;
    o.temperature = 1.0f;
    o.top_k = top_k;
    o.seed = 11;
    const Sampler s = make(o, 1000);
    for (std::uint64_t step = 0; step < 300; ++step) {
      const double u = rng::uniform_open(11, 0x73616d706c65ull, step);
      if (std::fabs(u - 1.0 / 3.0) < 1e-6 || std::fabs(u - 2.0 / 3.0) < 1e-6) continue;
      const TokenId want = u < 1.0 / 3.0 ? 5 : u < 2.0 / 3.0 ? 130 : 999;
      EXPECT_EQ(pick(s, l, {}, step), want) << "top_k " << top_k << " step " << step;
    }
  }
}

TEST(Sampler, LowTemperatureSharpensHighFlattens) {
  SamplingOptions o;
  o.temperature = 0.25f;  // (1/3)^4 : 1 -> p0 = 1/82
  const auto sharp = histogram(make(o, 2), {0.0f, std::log(3.0f)}, 4000);
  EXPECT_NEAR(sharp.count(0) ? sharp.at(0) / 4000.0 : 0.0, 1.0 / 82, 0.01);
  o.temperature = 100.0f;  // nearly uniform
  const auto flat = histogram(make(o, 2), {0.0f, std::log(3.0f)}, 4000);
  EXPECT_NEAR(flat.at(0) / 4000.0, 0.5, 0.03);
}

TEST(Sampler, TheDrawDependsOnSeedAndStepOnly) {
  SamplingOptions o;
  o.temperature = 1.0f;
  o.seed = 42;
  const Sampler a = make(o, 8), b = make(o, 8);
  const std::vector<float> l = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
  std::vector<TokenId> forward, backward(64);
  for (std::uint64_t i = 0; i < 64; ++i) forward.push_back(pick(a, l, {}, i));
  for (int i = 63; i >= 0; --i) backward[static_cast<std::size_t>(i)] = pick(b, l, {}, static_cast<std::uint64_t>(i));
  EXPECT_EQ(forward, backward);  // order of calls and instance do not matter
  o.seed = 43;
  const Sampler c = make(o, 8);
  std::vector<TokenId> other;
  for (std::uint64_t i = 0; i < 64; ++i) other.push_back(pick(c, l, {}, i));
  EXPECT_NE(forward, other);
}

TEST(Sampler, TopKOneIsGreedyWhateverTheSeed) {
  SamplingOptions o;
  o.temperature = 5.0f;
  o.top_k = 1;
  const Sampler s = make(o, 3);
  for (std::uint64_t i = 0; i < 50; ++i) EXPECT_EQ(pick(s, {1.0f, 1.5f, 0.9f}, {}, i), 1);
  o.top_k = 2;  // only 1 and 0 remain
  const auto h = histogram(make(o, 3), {1.0f, 1.5f, 0.9f}, 500);
  EXPECT_EQ(h.count(2), 0u);
  EXPECT_GT(h.at(0), 0);
}

TEST(Sampler, TopPKeepsTheFewestTokensReachingP) {
  // Probabilities 0.5, 0.3, 0.2.
  const std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  SamplingOptions o;
  o.temperature = 1.0f;
  o.top_p = 0.45f;  // 0.5 reaches it alone
  EXPECT_EQ(histogram(make(o, 3), l, 300).size(), 1u);
  o.top_p = 0.7f;  // 0.5 + 0.3
  const auto h = histogram(make(o, 3), l, 1000);
  EXPECT_EQ(h.count(2), 0u);
  EXPECT_NEAR(h.at(0) / 1000.0, 0.5 / 0.8, 0.05);  // renormalised over the two
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheMostProbable) {
  const std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  SamplingOptions o;
  o.temperature = 1.0f;
  o.min_p = 0.5f;  // keeps p >= 0.25: tokens 0 and 1
  const auto h = histogram(make(o, 3), l, 1000);
  EXPECT_EQ(h.count(2), 0u);
  EXPECT_GT(h.at(1), 0);
  o.min_p = 0.7f;  // keeps p >= 0.35: token 0 only
  EXPECT_EQ(histogram(make(o, 3), l, 300).size(), 1u);
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingOptions o;
  o.repeat_penalty = 2.0f;
  const Sampler s = make(o, 3);
  EXPECT_EQ(pick(s, {2.0f, 1.9f, -1.0f}, {0}), 1);   // 2 / 2 = 1 < 1.9
  EXPECT_EQ(pick(s, {2.0f, 1.9f, -1.0f}, {}), 0);    // no history, no penalty
  EXPECT_EQ(pick(s, {-1.0f, -1.5f, -9.0f}, {0}), 1);  // -1 x 2 = -2 < -1.5
}

TEST(Sampler, FrequencyAndPresencePenaltiesSubtract) {
  SamplingOptions o;
  o.frequency_penalty = 0.2f;  // twice: 1 - 0.4 = 0.6 > 0.5
  EXPECT_EQ(pick(make(o, 2), {1.0f, 0.5f}, {0, 0}), 0);
  o.frequency_penalty = 0.3f;  // 1 - 0.6 = 0.4 < 0.5
  EXPECT_EQ(pick(make(o, 2), {1.0f, 0.5f}, {0, 0}), 1);
  o.frequency_penalty = 0.0f;
  o.presence_penalty = 0.6f;  // once: 0.4 < 0.5
  EXPECT_EQ(pick(make(o, 2), {1.0f, 0.5f}, {0, 0}), 1);
}

TEST(Sampler, PenaltiesSeeOnlyTheLastTokensOfTheHistory) {
  SamplingOptions o;
  o.presence_penalty = 1.0f;
  o.penalty_last_n = 1;
  const Sampler s = make(o, 2);
  EXPECT_EQ(pick(s, {1.0f, 0.5f}, {0, 1}), 0);  // only token 1 is in the window
  EXPECT_EQ(pick(s, {1.0f, 0.5f}, {1, 0}), 1);
}

TEST(Sampler, LogprobsAreTheModelsDistribution) {
  SamplingOptions o;
  o.top_logprobs = 2;
  o.presence_penalty = 2.0f;  // penalties change the choice, not the logprobs
  const Sampler s = make(o, 3);
  // p = (0.25, 0.75, ~0): log 0.75 and log 0.25.
  auto r = s.sample(std::vector<float>{0.0f, std::log(3.0f), -30.0f}, std::vector<TokenId>{1}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->token, 0);  // log 3 - 2 < 0
  EXPECT_NEAR(r->logprob, std::log(0.25), 1e-5);
  ASSERT_EQ(r->top.size(), 2u);
  EXPECT_EQ(r->top[0].token, 1);
  EXPECT_NEAR(r->top[0].logprob, std::log(0.75), 1e-5);
  EXPECT_EQ(r->top[1].token, 0);
}

TEST(Sampler, BadOptionsAndInputsNameWhatWasExpected) {
  auto err = [](SamplingOptions o, const std::string& part) {
    auto s = Sampler::create(o, 10);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find(part), std::string::npos) << s.status().to_string();
  };
  SamplingOptions o;
  o.temperature = -1.0f;
  err(o, "temperature");
  o = {};
  o.top_p = 0.0f;
  err(o, "top_p 0.000000 (expected in (0, 1])");
  o = {};
  o.min_p = 2.0f;
  err(o, "min_p");
  o = {};
  o.top_k = -3;
  err(o, "top_k -3");
  o = {};
  o.repeat_penalty = 0.0f;
  err(o, "repeat_penalty");
  o = {};
  o.top_logprobs = 11;
  err(o, "top_logprobs 11 (expected 0..10)");
  const Sampler s = make({}, 3);
  EXPECT_FALSE(s.sample(std::vector<float>{1.0f, 2.0f}, {}, 0).ok());
  auto h = s.sample(std::vector<float>{1.0f, 2.0f, 3.0f}, std::vector<TokenId>{5}, 0);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("history token 0 has id 5"), std::string::npos);
}

}  // namespace
}  // namespace lpu
