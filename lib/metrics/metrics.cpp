#include "lib/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace lpu::metrics {

double log_sum_exp(std::span<const float> row) {
  const double mx = *std::max_element(row.begin(), row.end());
  double s = 0.0;
  for (float x : row) s += std::exp(static_cast<double>(x) - mx);
  return mx + std::log(s);
}

TokenId argmax(std::span<const float> row) {
  return static_cast<TokenId>(std::max_element(row.begin(), row.end()) - row.begin());
}

double kl_divergence(std::span<const float> p, std::span<const float> q) {
  const double lse_p = log_sum_exp(p), lse_q = log_sum_exp(q);
  double kl = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double lp = p[i] - lse_p, lq = q[i] - lse_q;
    kl += std::exp(lp) * (lp - lq);
  }
  return kl;
}

Result<Agreement> agreement(std::span<const float> ref, std::span<const float> test, int n_vocab) {
  const auto v = static_cast<std::size_t>(n_vocab);
  if (n_vocab < 1 || ref.size() != test.size() || ref.size() % v != 0) {
    return invalid_argument("agreement: " + std::to_string(ref.size()) + " and " + std::to_string(test.size()) +
                            " logits (expected equal counts of whole rows of " + std::to_string(n_vocab) + ")");
  }
  Agreement a;
  a.rows = ref.size() / v;
  std::size_t agree = 0;
  for (std::size_t r = 0; r < a.rows; ++r) {
    const auto p = ref.subspan(r * v, v), q = test.subspan(r * v, v);
    const double kl = kl_divergence(p, q);
    a.kl_rows.push_back(kl);
    a.kl_mean += kl;
    a.kl_max = std::max(a.kl_max, kl);
    agree += argmax(p) == argmax(q) ? 1 : 0;
  }
  if (a.rows > 0) {
    a.kl_mean /= static_cast<double>(a.rows);
    a.top1 = static_cast<double>(agree) / static_cast<double>(a.rows);
  }
  return a;
}

Result<NextTokenLoss> next_token_loss(std::span<const float> logits, std::span<const TokenId> ids, int n_vocab) {
  const auto v = static_cast<std::size_t>(n_vocab);
  if (ids.size() < 2 || n_vocab < 1 || logits.size() < (ids.size() - 1) * v) {
    return invalid_argument("next-token loss: " + std::to_string(ids.size()) + " ids and " +
                            std::to_string(logits.size()) + " logits (expected at least 2 ids and a row of " +
                            std::to_string(n_vocab) + " per id but the last)");
  }
  double nll = 0.0;
  for (std::size_t r = 0; r + 1 < ids.size(); ++r) {
    const TokenId next = ids[r + 1];
    if (next < 0 || static_cast<std::size_t>(next) >= v) {
      return out_of_range("next-token loss: id " + std::to_string(r + 1) + " is " + std::to_string(next) +
                          " (expected 0.." + std::to_string(n_vocab - 1) + ")");
    }
    const auto row = logits.subspan(r * v, v);
    nll += log_sum_exp(row) - row[static_cast<std::size_t>(next)];
  }
  NextTokenLoss out;
  out.nll_mean = nll / static_cast<double>(ids.size() - 1);
  out.perplexity = std::exp(out.nll_mean);
  return out;
}

Result<std::vector<TokenId>> parse_token_ids(std::string_view list) {
  std::vector<TokenId> ids;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item(list.substr(pos, comma - pos));
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 0 || v > INT32_MAX) {
      return invalid_argument("'" + item + "' is not a token id (expected e.g. 1,2,3)");
    }
    ids.push_back(static_cast<TokenId>(v));
    pos = comma + 1;
  }
  return ids;
}

}  // namespace lpu::metrics
