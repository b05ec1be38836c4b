#pragma once
// Choosing the next token from a step's logits, and stop strings.
//
// A Sampler is greedy (the highest logit), or draws after repetition,
// frequency and presence penalties, top-k, top-p, min-p and temperature, in
// llama.cpp's order. The draw comes from the counter-based generator keyed
// by the request's seed and the index of the token being chosen, nothing
// else, so a request gives the same tokens on any backend, thread count or
// batch slot, whatever else is running. Probabilities use the project's own
// exp in a fixed order, so they are the same bits on every machine. The
// draw walks the kept tokens by falling logit when top-k or top-p sorted
// them, else by id.
//
// Thread-safety: a Sampler is immutable once created; sample() may be
// called from any number of threads. A StopStrings belongs to one sequence.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lpu/status.h"
#include "lpu/token.h"

namespace lpu {

struct SamplingOptions {
  /// 0: greedy, the highest logit (the lowest id among equals); otherwise
  /// the kept logits are divided by it before the draw.
  float temperature = 0.0f;
  /// Keep the k highest logits (0: all).
  int top_k = 0;
  /// Keep the most probable tokens whose probabilities (at temperature 1)
  /// first reach p (1: all).
  float top_p = 1.0f;
  /// Drop tokens less probable than min_p times the most probable (0: none).
  float min_p = 0.0f;
  /// Tokens among the last penalty_last_n of the history: a positive logit
  /// divided by it, a negative one multiplied (1: off).
  float repeat_penalty = 1.0f;
  /// Subtracted from a token's logit once per occurrence in that window.
  float frequency_penalty = 0.0f;
  /// Subtracted once from the logit of every token in that window.
  float presence_penalty = 0.0f;
  /// How many of the latest history tokens the penalties see (0: none).
  int penalty_last_n = 64;
  std::uint64_t seed = 0;
  /// Report the chosen token's log-probability.
  bool logprobs = false;
  /// Alternatives reported with their log-probabilities (0 to 20; implies
  /// logprobs).
  int top_logprobs = 0;
};

struct TokenLogprob {
  TokenId token = 0;
  /// Natural log of the token's probability in the model's distribution
  /// (the softmax of the raw logits, before penalties and temperature).
  float logprob = 0.0f;
};

struct SampledToken {
  TokenId token = 0;
  /// With logprobs or top_logprobs; else 0.
  float logprob = 0.0f;
  /// The top_logprobs most probable tokens, most probable first.
  std::vector<TokenLogprob> top;
};

class Sampler {
 public:
  /// Errors name the option and the range expected: temperature < 0 or not
  /// finite, top_k < 0, top_p outside (0, 1], min_p outside [0, 1],
  /// repeat_penalty <= 0, penalty_last_n < 0, top_logprobs outside [0, 20]
  /// or above n_vocab, n_vocab < 1.
  static Result<Sampler> create(const SamplingOptions& options, int n_vocab);

  /// The token at index `step` of the request's generated tokens, from
  /// n_vocab logits; `history` is what the penalties look at (the prompt
  /// and the tokens generated so far, in order). Errors: logits of another
  /// size, a history id outside [0, n_vocab).
  Result<SampledToken> sample(std::span<const float> logits, std::span<const TokenId> history,
                              std::uint64_t step) const;

  const SamplingOptions& options() const { return options_; }

 private:
  Sampler(const SamplingOptions& o, int n_vocab) : options_(o), n_vocab_(n_vocab) {}
  // The draw at temperature > 0 from the penalised logits `l`.
  TokenId draw(const std::vector<float>& l, std::uint64_t step) const;
  void add_logprobs(std::span<const float> logits, SampledToken& out) const;

  SamplingOptions options_;
  int n_vocab_ = 0;
};

/// Watches generated text for stop strings, which may span tokens: text
/// that could still be the start of one is held back until it cannot.
class StopStrings {
 public:
  /// Errors: an empty stop string.
  static Result<StopStrings> create(std::vector<std::string> stops);

  /// Appends a piece of generated text and returns the text now safe to
  /// show. When a stop string completes, returns the text before it and
  /// stopped() turns true; later pieces return nothing.
  std::string push(std::string_view piece);
  /// At the end of generation: the text held back (none once stopped).
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  explicit StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace lpu
