#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

#include "include/lpu/sampling.h"
#include "kernels/float/float_kernels.h"
#include "lib/core/rng.h"

namespace lpu {
namespace {

// The generator's stream for token draws; the counter is the step.
constexpr std::uint64_t kDrawStream = 0x73616d706c65ull;  // "sample"
constexpr int kMaxTopLogprobs = 20;

// NaN sorts as the lowest logit, so a broken row cannot win a comparison.
float ordered(float x) { return std::isnan(x) ? -INFINITY : x; }

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
  // Penalties over the latest penalty_last_n history tokens: the few
  // changed logits, applied on top of the row (which is not copied).
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
  std::vector<std::pair<TokenId, float>> penalised;
  for (const auto& [t, n] : count) {
    float x = logits[static_cast<std::size_t>(t)];
    if (o.repeat_penalty != 1.0f) x = x > 0.0f ? x / o.repeat_penalty : x * o.repeat_penalty;
    x -= static_cast<float>(n) * o.frequency_penalty + o.presence_penalty;
    penalised.emplace_back(t, x);
  }
  SampledToken out;
  if (o.temperature == 0.0f) {
    // The highest among the unpenalised logits, then the penalised ones
    // (the lower id wins a tie).
    std::vector<bool> hit(penalised.empty() ? 0 : static_cast<std::size_t>(n_vocab_), false);
    for (const auto& pt : penalised) hit[static_cast<std::size_t>(pt.first)] = true;
    TokenId best = -1;
    float top = -INFINITY;
    for (TokenId t = 0; t < n_vocab_; ++t) {
      if (!hit.empty() && hit[static_cast<std::size_t>(t)]) continue;
      if (best < 0 || ordered(logits[t]) > top) {
        best = t;
        top = ordered(logits[t]);
      }
    }
    for (const auto& [t, x] : penalised) {
      if (best < 0 || ordered(x) > top || (ordered(x) == top && t < best)) {
        best = t;
        top = ordered(x);
      }
    }
    out.token = best;
  } else {
    thread_local std::vector<float> l;
    l.assign(logits.begin(), logits.end());
    for (const auto& [t, x] : penalised) l[static_cast<std::size_t>(t)] = x;
    out.token = draw(l, step);
  }
  if (o.logprobs || o.top_logprobs > 0) add_logprobs(logits, out);
  return out;
}

TokenId Sampler::draw(const std::vector<float>& l, std::uint64_t step) const {
  const SamplingOptions& o = options_;
  const kernels::FloatKernels& fp = kernels::float_kernels();
  // Scratch kept per thread: a row is far above malloc's mmap threshold.
  thread_local std::vector<TokenId> ids;
  thread_local std::vector<float> x, w;
  auto before = [&](TokenId a, TokenId b) {
    return ordered(l[a]) != ordered(l[b]) ? ordered(l[a]) > ordered(l[b]) : a < b;
  };
  ids.resize(static_cast<std::size_t>(n_vocab_));
  std::iota(ids.begin(), ids.end(), 0);
  if (o.top_k > 0 && static_cast<std::size_t>(o.top_k) < ids.size()) {
    std::nth_element(ids.begin(), ids.begin() + o.top_k, ids.end(), before);
    ids.resize(static_cast<std::size_t>(o.top_k));
    std::sort(ids.begin(), ids.end(), before);
  } else if (o.top_p < 1.0f) {
    std::sort(ids.begin(), ids.end(), before);
  }
  float mx = -INFINITY;
  for (TokenId t : ids) mx = std::max(mx, ordered(l[t]));
  x.resize(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) x[i] = ordered(l[ids[i]]) - mx;
  if (o.top_p < 1.0f || o.min_p > 0.0f) {
    // Weights at temperature 1, relative to the most probable: exp(l - max).
    w.resize(ids.size());
    fp.exp(x.data(), x.size(), w.data());
    std::size_t n = ids.size();
    if (o.top_p < 1.0f) {  // ids are sorted: keep the prefix that reaches p
      double total = 0.0, cum = 0.0;
      for (float v : w) total += v;
      std::size_t keep = 0;
      while (keep < n) {
        cum += w[keep++];
        if (cum >= static_cast<double>(o.top_p) * total) break;
      }
      n = keep;
    }
    std::size_t kept = n;
    if (o.min_p > 0.0f) {  // the most probable weighs exp(0) = 1
      kept = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (static_cast<double>(w[i]) >= static_cast<double>(o.min_p)) {
          ids[kept] = ids[i];
          x[kept++] = x[i];
        }
      }
    }
    ids.resize(kept);
    x.resize(kept);
  }
  // Temperature, then one draw from the counter-based generator.
  for (float& v : x) v = v / o.temperature;
  w.resize(x.size());
  fp.exp(x.data(), x.size(), w.data());
  double sum = 0.0;
  for (float v : w) sum += v;
  const double u = rng::uniform_open(o.seed, kDrawStream, step) * sum;
  double cum = 0.0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    cum += w[i];
    if (u < cum) return ids[i];
  }
  return ids.back();
}

void Sampler::add_logprobs(std::span<const float> logits, SampledToken& out) const {
  const SamplingOptions& o = options_;
  float mx = -INFINITY;
  for (float v : logits) mx = std::max(mx, ordered(v));
  thread_local std::vector<float> x, e;
  x.resize(logits.size());
  e.resize(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) x[i] = ordered(logits[i]) - mx;
  kernels::float_kernels().exp(x.data(), x.size(), e.data());
  double sum = 0.0;
  for (float v : e) sum += v;
  const double lse = rng::log_deterministic(sum);
  auto lp = [&](TokenId t) { return static_cast<float>(static_cast<double>(x[static_cast<std::size_t>(t)]) - lse); };
  out.logprob = lp(out.token);
  if (o.top_logprobs == 0) return;
  thread_local std::vector<TokenId> ids;
  ids.resize(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + o.top_logprobs, ids.end(),
                    [&](TokenId a, TokenId b) { return x[a] != x[b] ? x[a] > x[b] : a < b; });
  for (int i = 0; i < o.top_logprobs; ++i) out.top.push_back({ids[static_cast<std::size_t>(i)], lp(ids[static_cast<std::size_t>(i)])});
}

}  // namespace lpu
