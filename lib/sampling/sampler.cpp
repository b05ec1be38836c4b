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

// The largest ordered value: the row-max kernel skips NaN, as ordered()
// ranks it below everything (exact, so any order gives the same value).
float row_max(const float* x, std::size_t n) { return kernels::float_kernels().max(x, n); }

// The first index of the largest ordered value (the lowest id among
// equals): the row-max kernel per chunk of 1024, then a scan of the first
// chunk that holds the maximum.
std::size_t row_argmax(const float* x, std::size_t n) {
  constexpr std::size_t kChunk = 1024;
  thread_local std::vector<float> chunk_max;
  chunk_max.clear();
  float mx = -INFINITY;
  for (std::size_t c = 0; c < n; c += kChunk) {
    chunk_max.push_back(row_max(x + c, std::min(kChunk, n - c)));
    mx = std::max(mx, chunk_max.back());
  }
  for (std::size_t k = 0; k < chunk_max.size(); ++k) {
    if (chunk_max[k] != mx) continue;
    for (std::size_t i = k * kChunk; i < std::min(n, (k + 1) * kChunk); ++i) {
      if (ordered(x[i]) == mx) return i;
    }
  }
  return 0;
}

// The draw walks weights in blocks: each block's sum left to right, the
// blocks' sums left to right. A fixed order on every machine, and eight
// blocks summed at once keep eight independent additions in flight.
constexpr std::size_t kBlock = 64;
constexpr std::size_t kBlocksAtOnce = 8;

// The index i where the running sum of w (blocked as above) first exceeds
// u * total; w is padded with zeros to whole groups of blocks.
std::size_t blocked_draw(std::vector<float>& w, std::size_t n, double u01) {
  const std::size_t group = kBlock * kBlocksAtOnce;
  w.resize((n + group - 1) / group * group, 0.0f);
  thread_local std::vector<double> sums;
  sums.assign(w.size() / kBlock, 0.0);
  for (std::size_t b0 = 0; b0 < sums.size(); b0 += kBlocksAtOnce) {
    double acc[kBlocksAtOnce] = {};
    const float* base = w.data() + b0 * kBlock;
    for (std::size_t i = 0; i < kBlock; ++i) {
      for (std::size_t j = 0; j < kBlocksAtOnce; ++j) acc[j] += static_cast<double>(base[j * kBlock + i]);
    }
    for (std::size_t j = 0; j < kBlocksAtOnce; ++j) sums[b0 + j] = acc[j];
  }
  double total = 0.0;
  for (double v : sums) total += v;
  const double u = u01 * total;
  double cum = 0.0;
  std::size_t b = 0;
  while (b + 1 < sums.size() && !(u < cum + sums[b])) cum += sums[b++];
  for (std::size_t i = b * kBlock; i < (b + 1) * kBlock && i < n; ++i) {
    cum += w[i];
    if (u < cum) return i;
  }
  // Rounding left u past the block's last weight: the last weight in it.
  std::size_t last = std::min((b + 1) * kBlock, n) - 1;
  while (last > 0 && w[last] == 0.0f) --last;
  return last;
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
    // The highest logit after the penalties (the lower id wins a tie).
    if (penalised.empty()) {
      out.token = static_cast<TokenId>(row_argmax(logits.data(), logits.size()));
    } else {
      thread_local std::vector<float> l;
      l.assign(logits.begin(), logits.end());
      for (const auto& [t, x] : penalised) l[static_cast<std::size_t>(t)] = x;
      out.token = static_cast<TokenId>(row_argmax(l.data(), l.size()));
    }
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
  const double u = rng::uniform_open(o.seed, kDrawStream, step);
  // Scratch kept per thread: a row is far above malloc's mmap threshold.
  thread_local std::vector<TokenId> ids;
  thread_local std::vector<float> x, w;
  const std::size_t nv = static_cast<std::size_t>(n_vocab_);
  const bool top_k = o.top_k > 0 && static_cast<std::size_t>(o.top_k) < nv;
  if (!top_k && o.top_p >= 1.0f && o.min_p <= 0.0f) {
    // Temperature alone: every token, by id, without an index list.
    const float mx = row_max(l.data(), nv);
    x.resize(nv);
    // Simple loops, so that they vectorise; a NaN (ranked as -inf) is
    // rare enough to be fixed in a second pass.
    const float inv_t = 1.0f / o.temperature;
    const float* li = l.data();
    float* xi = x.data();
    int nan = 0;
    if (std::isfinite(inv_t)) {
      for (std::size_t i = 0; i < nv; ++i) {
        xi[i] = (li[i] - mx) * inv_t;
        nan |= li[i] != li[i];
      }
    } else {  // a temperature so small that 1/t overflows: divide
      for (std::size_t i = 0; i < nv; ++i) {
        xi[i] = (li[i] - mx) / o.temperature;
        nan |= li[i] != li[i];
      }
    }
    if (nan != 0) {
      for (std::size_t i = 0; i < nv; ++i) {
        if (std::isnan(li[i])) xi[i] = -INFINITY;
      }
    }
    w.resize(nv);
    fp.exp(x.data(), nv, w.data());
    return static_cast<TokenId>(blocked_draw(w, nv, u));
  }
  auto before = [&](TokenId a, TokenId b) {
    return ordered(l[a]) != ordered(l[b]) ? ordered(l[a]) > ordered(l[b]) : a < b;
  };
  ids.resize(nv);
  std::iota(ids.begin(), ids.end(), 0);
  if (top_k) {
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
      for (std::size_t i = 0; i < n; ++i) total += w[i];
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
  return ids[blocked_draw(w, x.size(), u)];
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
