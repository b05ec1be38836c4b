#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

#include "include/lpu/sampling.h"
#include "kernels/math/math.h"
#include "lib/core/rng.h"

namespace lpu {
namespace {

// The generator's stream for token draws; the counter is the step.
constexpr std::uint64_t kDrawStream = 0x73616d706c65ull;  // "sample"
constexpr int kMaxTopLogprobs = 20;

// NaN sorts as the lowest logit, so a broken row cannot win a comparison.
float ordered(float x) { return std::isnan(x) ? -INFINITY : x; }

// Candidates by logit, highest first, the lower id first among equals.
void sort_by_logit(std::vector<TokenId>& ids, const std::vector<float>& l) {
  std::stable_sort(ids.begin(), ids.end(), [&](TokenId a, TokenId b) { return ordered(l[a]) > ordered(l[b]); });
}

// exp(x) for x <= 0 with the project's own exp: the same bits everywhere.
double weight(float x) { return static_cast<double>(kernels::exp_f32(x)); }

// Log-probabilities of the raw logits: x - max - log(sum exp(x - max)).
std::vector<float> log_softmax_of(std::span<const float> logits, std::span<const TokenId> ids) {
  float mx = -INFINITY;
  for (float x : logits) mx = std::max(mx, ordered(x));
  double sum = 0.0;
  for (float x : logits) sum += weight(ordered(x) - mx);
  const double lse = rng::log_deterministic(sum);
  std::vector<float> out;
  out.reserve(ids.size());
  for (TokenId t : ids) out.push_back(static_cast<float>(static_cast<double>(ordered(logits[t]) - mx) - lse));
  return out;
}

}  // namespace

Result<Sampler> Sampler::create(const SamplingOptions& o, int n_vocab) {
  auto bad = [](const std::string& what) { return invalid_argument("sampling: " + what); };
  if (n_vocab < 1) return bad("n_vocab " + std::to_string(n_vocab) + " (expected >= 1)");
  if (!std::isfinite(o.temperature) || o.temperature < 0.0f) {
    return bad("temperature " + std::to_string(o.temperature) + " (expected a finite value >= 0; 0 is greedy)");
  }
  if (o.top_k < 0) return bad("top_k " + std::to_string(o.top_k) + " (expected >= 0; 0 keeps every token)");
  if (!(o.top_p > 0.0f && o.top_p <= 1.0f)) return bad("top_p " + std::to_string(o.top_p) + " (expected in (0, 1])");
  if (!(o.min_p >= 0.0f && o.min_p <= 1.0f)) return bad("min_p " + std::to_string(o.min_p) + " (expected in [0, 1])");
  if (!(o.repeat_penalty > 0.0f) || !std::isfinite(o.repeat_penalty)) {
    return bad("repeat_penalty " + std::to_string(o.repeat_penalty) + " (expected > 0; 1 is off)");
  }
  if (!std::isfinite(o.frequency_penalty) || !std::isfinite(o.presence_penalty)) {
    return bad("frequency_penalty and presence_penalty must be finite");
  }
  if (o.penalty_last_n < 0) return bad("penalty_last_n " + std::to_string(o.penalty_last_n) + " (expected >= 0)");
  if (o.top_logprobs < 0 || o.top_logprobs > std::min(kMaxTopLogprobs, n_vocab)) {
    return bad("top_logprobs " + std::to_string(o.top_logprobs) + " (expected 0.." +
               std::to_string(std::min(kMaxTopLogprobs, n_vocab)) + ")");
  }
  return Sampler(o, n_vocab);
}

Result<SampledToken> Sampler::sample(std::span<const float> logits, std::span<const TokenId> history,
                                     std::uint64_t step) const {
  const SamplingOptions& o = options_;
  if (logits.size() != static_cast<std::size_t>(n_vocab_)) {
    return invalid_argument("sampling: " + std::to_string(logits.size()) + " logits (expected n_vocab = " +
                            std::to_string(n_vocab_) + ")");
  }
  std::vector<float> l(logits.begin(), logits.end());
  // Penalties over the latest penalty_last_n history tokens.
  const std::size_t window = std::min(history.size(), static_cast<std::size_t>(o.penalty_last_n));
  std::unordered_map<TokenId, int> count;
  for (std::size_t i = history.size() - window; i < history.size(); ++i) {
    const TokenId t = history[i];
    if (t < 0 || t >= n_vocab_) {
      return out_of_range("sampling: history token " + std::to_string(i) + " has id " + std::to_string(t) +
                          " (expected 0.." + std::to_string(n_vocab_ - 1) + ")");
    }
    ++count[t];
  }
  for (const auto& [t, n] : count) {
    float& x = l[static_cast<std::size_t>(t)];
    if (o.repeat_penalty != 1.0f) x = x > 0.0f ? x / o.repeat_penalty : x * o.repeat_penalty;
    x -= static_cast<float>(n) * o.frequency_penalty + o.presence_penalty;
  }
  SampledToken out;
  if (o.temperature == 0.0f) {
    TokenId best = 0;
    for (TokenId t = 1; t < n_vocab_; ++t) {
      if (ordered(l[t]) > ordered(l[best])) best = t;
    }
    out.token = best;
  } else {
    std::vector<TokenId> ids(static_cast<std::size_t>(n_vocab_));
    std::iota(ids.begin(), ids.end(), 0);
    sort_by_logit(ids, l);
    if (o.top_k > 0 && static_cast<std::size_t>(o.top_k) < ids.size()) ids.resize(static_cast<std::size_t>(o.top_k));
    // top-p and min-p at temperature 1, relative to the most probable.
    const float mx = ordered(l[ids[0]]);
    std::vector<double> w(ids.size());
    double total = 0.0;
    for (std::size_t i = 0; i < ids.size(); ++i) total += (w[i] = weight(ordered(l[ids[i]]) - mx));
    if (o.top_p < 1.0f) {
      double cum = 0.0;
      std::size_t keep = 0;
      while (keep < ids.size()) {
        cum += w[keep++];
        if (cum >= static_cast<double>(o.top_p) * total) break;
      }
      ids.resize(keep);
    }
    if (o.min_p > 0.0f) {
      std::size_t keep = 1;
      while (keep < ids.size() && w[keep] >= static_cast<double>(o.min_p) * w[0]) ++keep;
      ids.resize(keep);
    }
    // Temperature, then one draw from the counter-based generator.
    double sum = 0.0;
    std::vector<double> p(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) sum += (p[i] = weight((ordered(l[ids[i]]) - mx) / o.temperature));
    const double u = rng::uniform_open(o.seed, kDrawStream, step) * sum;
    double cum = 0.0;
    out.token = ids.back();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      cum += p[i];
      if (u < cum) {
        out.token = ids[i];
        break;
      }
    }
  }
  // Log-probabilities in the model's own distribution.
  std::vector<TokenId> report{out.token};
  if (o.top_logprobs > 0) {
    std::vector<TokenId> ids(static_cast<std::size_t>(n_vocab_));
    std::iota(ids.begin(), ids.end(), 0);
    const std::vector<float> raw(logits.begin(), logits.end());
    std::partial_sort(ids.begin(), ids.begin() + o.top_logprobs, ids.end(), [&](TokenId a, TokenId b) {
      return ordered(raw[a]) != ordered(raw[b]) ? ordered(raw[a]) > ordered(raw[b]) : a < b;
    });
    report.insert(report.end(), ids.begin(), ids.begin() + o.top_logprobs);
  }
  const std::vector<float> lp = log_softmax_of(logits, report);
  out.logprob = lp[0];
  for (std::size_t i = 1; i < report.size(); ++i) out.top.push_back({report[i], lp[i]});
  return out;
}

}  // namespace lpu
