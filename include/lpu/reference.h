#pragma once
// The fp32 reference forward pass: llama.cpp's graph for architecture
// "llama" (dense and mixture-of-experts) evaluated in plain fp32 with a KV
// cache. Clarity over speed: it is the oracle the compiled backends are
// tested against, not an engine.

#include <memory>
#include <span>
#include <vector>

#include "lpu/model.h"
#include "lpu/status.h"
#include "lpu/token.h"

namespace lpu {

/// One sequence evaluated by the reference forward pass. Owns fp32 copies
/// of every weight (dequantised once by create()) and a KV cache of
/// max_context positions; it does not keep a reference to the Model.
class ReferenceSession {
 public:
  /// Dequantises `model`'s weights and allocates a KV cache for
  /// `max_context` positions (2 * n_layer * max_context * n_head_kv *
  /// head_dim floats). `max_context` must be >= 1 and may exceed the
  /// training context. Fails with resource_exhausted when weights and cache
  /// would not fit in this host's memory.
  static Result<ReferenceSession> create(const Model& model, int max_context);

  ReferenceSession(ReferenceSession&&) noexcept;
  ReferenceSession& operator=(ReferenceSession&&) noexcept;
  ~ReferenceSession();

  /// Appends `tokens` at the current position (a prefill when there are
  /// several, a decode step for one) and returns their logits: n_tokens x
  /// n_vocab row-major when `all_logits`, else the last token's n_vocab
  /// logits. Errors, which leave the session unchanged: no tokens, a token id
  /// outside [0, n_vocab), or position() + n_tokens > max_context().
  Result<std::vector<float>> forward(std::span<const TokenId> tokens, bool all_logits);

  /// Number of tokens in the KV cache (the position of the next token).
  int position() const;
  /// Empties the KV cache (position() becomes 0).
  void reset();
  /// Capacity of the KV cache, in tokens.
  int max_context() const;
  const ModelConfig& config() const;

 private:
  struct Impl;
  explicit ReferenceSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lpu
