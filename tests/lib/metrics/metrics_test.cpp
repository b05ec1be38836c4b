// The metrics on hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lib/metrics/metrics.h"

namespace lpu::metrics {
namespace {

TEST(Metrics, ArgmaxTakesTheLowestIdAmongEquals) {
  const std::vector<float> row = {1.0f, 3.0f, 3.0f, -2.0f};
  EXPECT_EQ(argmax(row), 1);
}

TEST(Metrics, KlOfHandComputedRows) {
  // softmax(0, ln 3) = (1/4, 3/4) against uniform (1/2, 1/2):
  // 1/4 ln(1/2) + 3/4 ln(3/2).
  const std::vector<float> p = {0.0f, std::log(3.0f)}, q = {5.0f, 5.0f};
  EXPECT_NEAR(kl_divergence(p, q), 0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-7);
  EXPECT_NEAR(kl_divergence(p, p), 0.0, 1e-12);
  auto a = agreement(std::vector<float>{0.0f, std::log(3.0f), 1.0f, 0.0f}, std::vector<float>{5.0f, 5.0f, 1.0f, 0.0f}, 2);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->rows, 2u);
  EXPECT_DOUBLE_EQ(a->top1, 0.5);  // row 0: 1 against 0 (a tie goes to 0); row 1 agrees
  EXPECT_NEAR(a->kl_max, 0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-7);
  EXPECT_FALSE(agreement(std::vector<float>{1.0f}, std::vector<float>{1.0f, 2.0f}, 2).ok());
}

TEST(Metrics, UniformLogitsHaveThePerplexityOfTheVocabulary) {
  const std::vector<float> logits(3 * 8, 0.5f);
  auto l = next_token_loss(logits, std::vector<TokenId>{1, 2, 3, 4}, 8);
  ASSERT_TRUE(l.ok());
  EXPECT_NEAR(l->perplexity, 8.0, 1e-9);
  EXPECT_FALSE(next_token_loss(logits, std::vector<TokenId>{1, 9, 3, 4}, 8).ok());
  EXPECT_FALSE(next_token_loss(logits, std::vector<TokenId>{1}, 8).ok());
}

TEST(Metrics, TokenIdListsParseOrNameTheBadItem) {
  EXPECT_EQ(*parse_token_ids("1,22,333"), (std::vector<TokenId>{1, 22, 333}));
  auto bad = parse_token_ids("1,x,3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'x' is not a token id"), std::string::npos);
  EXPECT_FALSE(parse_token_ids("1,,3").ok());
  EXPECT_FALSE(parse_token_ids("-4").ok());
}

}  // namespace
}  // namespace lpu::metrics
