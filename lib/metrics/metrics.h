#pragma once
// How close two sets of logits are, and how well logits predict a text: the
// one implementation `lpu eval` and the tests share. Rows are n_vocab
// logits; sums run in double.

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "include/lpu/status.h"
#include "include/lpu/token.h"

namespace lpu::metrics {

/// log(sum(exp(row))), shifted by the row's maximum.
double log_sum_exp(std::span<const float> row);

/// The highest logit's id; the lowest id among equals.
TokenId argmax(std::span<const float> row);

/// KL(softmax(p) || softmax(q)) of two logit rows.
double kl_divergence(std::span<const float> p, std::span<const float> q);

/// Per row of `test` against the same row of `ref`: KL(ref || test), and
/// whether their argmaxes agree.
struct Agreement {
  std::size_t rows = 0;
  double kl_mean = 0.0;
  double kl_max = 0.0;
  /// Fraction of rows whose argmax agree.
  double top1 = 0.0;
  std::vector<double> kl_rows;
};
/// Errors: sizes that differ or are not whole rows of n_vocab.
Result<Agreement> agreement(std::span<const float> ref, std::span<const float> test, int n_vocab);

/// Mean negative log-likelihood of each next token (row r predicts
/// ids[r + 1]) and its exponential, the perplexity.
struct NextTokenLoss {
  double nll_mean = 0.0;
  double perplexity = 0.0;
};
/// Errors: fewer than 2 ids, fewer rows than ids, an id outside n_vocab.
Result<NextTokenLoss> next_token_loss(std::span<const float> logits, std::span<const TokenId> ids, int n_vocab);

/// Token ids written as "1,2,3" (no spaces). Errors name the item.
Result<std::vector<TokenId>> parse_token_ids(std::string_view list);

}  // namespace lpu::metrics
