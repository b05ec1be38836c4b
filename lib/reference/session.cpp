// lpu::ReferenceSession: weights, RoPE tables and the KV cache of one
// sequence, and the checks that keep a failed call from changing it.
#include <limits>
#include <new>
#include <string>

#include "include/lpu/reference.h"
#include "lib/core/physical_memory.h"
#include "lib/model/model_access.h"
#include "lib/reference/forward.h"
#include "lib/reference/weights.h"

namespace lpu {

struct ReferenceSession::Impl {
  ModelConfig config;
  reference::Weights weights;
  reference::Rope rope;
  reference::KvCache cache;
  int max_context = 0;
  int position = 0;
};

namespace {

// fp32 weights plus the KV cache must fit in physical memory; checked before
// allocating so an oversized request fails cleanly instead of paging or
// being killed.
Status check_memory(const Model& model, int max_context) {
  const ModelConfig& c = model.config();
  const std::uint64_t kv_per_pos = 2ULL * static_cast<std::uint64_t>(c.n_layer) *
                                   static_cast<std::uint64_t>(c.n_head_kv) *
                                   static_cast<std::uint64_t>(c.head_dim) * sizeof(float);
  const std::uint64_t kv_bytes = kv_per_pos * static_cast<std::uint64_t>(max_context);
  const std::uint64_t weight_bytes = static_cast<std::uint64_t>(c.n_params()) * sizeof(float);
  const std::uint64_t have = physical_memory_bytes();
  if (kv_bytes / kv_per_pos != static_cast<std::uint64_t>(max_context) || weight_bytes > have ||
      kv_bytes > have - weight_bytes) {
    return resource_exhausted(model.path() + ": the reference session needs " +
                              std::to_string(weight_bytes) + " bytes of fp32 weights and " +
                              std::to_string(kv_bytes) + " bytes of KV cache for max_context " +
                              std::to_string(max_context) + " (this host has " +
                              std::to_string(have) + " bytes)");
  }
  return {};
}

}  // namespace

ReferenceSession::ReferenceSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReferenceSession::ReferenceSession(ReferenceSession&&) noexcept = default;
ReferenceSession& ReferenceSession::operator=(ReferenceSession&&) noexcept = default;
ReferenceSession::~ReferenceSession() = default;

Result<ReferenceSession> ReferenceSession::create(const Model& model, int max_context) {
  if (max_context < 1) {
    return invalid_argument(model.path() + ": max_context is " + std::to_string(max_context) +
                            " (expected >= 1)");
  }
  LPU_TRY(check_memory(model, max_context), "");
  const ModelConfig& c = model.config();
  try {
    LPU_ASSIGN_OR_RETURN(reference::Weights weights,
                         reference::load_weights(model::model_file(model), c));
    reference::Rope rope(c, weights.rope_freqs);
    auto impl = std::make_unique<Impl>(Impl{c, std::move(weights), std::move(rope),
                                            reference::zero_kv_cache(c, max_context), max_context, 0});
    return ReferenceSession(std::move(impl));
  } catch (const std::bad_alloc&) {
    return resource_exhausted(model.path() +
                              ": out of memory allocating the reference session (max_context " +
                              std::to_string(max_context) + ")");
  }
}

Result<std::vector<float>> ReferenceSession::forward(std::span<const TokenId> tokens,
                                                     bool all_logits) {
  Impl& s = *impl_;
  if (tokens.empty())
    return invalid_argument("reference forward: no tokens (expected at least one)");
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= s.config.n_vocab) {
      return out_of_range("reference forward: token " + std::to_string(i) + " has id " +
                          std::to_string(tokens[i]) + " (expected 0.." +
                          std::to_string(s.config.n_vocab - 1) + ": vocabulary size " +
                          std::to_string(s.config.n_vocab) + ")");
    }
  }
  if (tokens.size() > static_cast<std::size_t>(s.max_context - s.position)) {
    return out_of_range("reference forward: context full: position " + std::to_string(s.position) +
                        " + " + std::to_string(tokens.size()) + " tokens exceeds max_context " +
                        std::to_string(s.max_context));
  }
  const reference::MatrixRM hidden =
      reference::forward_hidden(s.config, s.weights, s.rope, s.cache, tokens, s.position);
  s.position += static_cast<int>(tokens.size());

  // One matrix-vector product per row, so a token's logits do not depend on
  // how many rows are returned.
  const Eigen::Index first = all_logits ? 0 : hidden.rows() - 1;
  const Eigen::Index vocab = s.config.n_vocab;
  std::vector<float> logits(static_cast<std::size_t>((hidden.rows() - first) * vocab));
  for (Eigen::Index r = first; r < hidden.rows(); ++r) {
    Eigen::Map<Eigen::VectorXf> row(logits.data() + (r - first) * vocab, vocab);
    row.noalias() = s.weights.lm_head() * hidden.row(r).transpose();
  }
  return logits;
}

int ReferenceSession::position() const { return impl_->position; }

void ReferenceSession::reset() { impl_->position = 0; }

int ReferenceSession::max_context() const { return impl_->max_context; }

const ModelConfig& ReferenceSession::config() const { return impl_->config; }

}  // namespace lpu
