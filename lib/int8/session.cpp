// lpu::Int8Session: options, weights, per-slot KV caches and positions, and
// the checks that keep a failed call from changing any of them.
#include <algorithm>
#include <limits>
#include <new>
#include <string>
#include <thread>

#include "kernels/float/float_kernels.h"
#include "kernels/quantize/quantize.h"
#include "lib/core/physical_memory.h"
#include "lib/int8/forward.h"
#include "lib/int8/session_impl.h"
#include "lib/model/model_access.h"

namespace lpu {
namespace {

Status validate_options(const Model& model, int max_context, const Int8Options& o) {
  const std::string where = model.path() + ": int8 session: ";
  if (max_context < 1) {
    return invalid_argument(where + "max_context is " + std::to_string(max_context) +
                            " (expected >= 1)");
  }
  if (o.group_size < 0 || !kernels::valid_group_size(static_cast<std::size_t>(o.group_size))) {
    return invalid_argument(where + "group_size is " + std::to_string(o.group_size) +
                            " (expected a multiple of 32 in [32, 65536])");
  }
  if (o.threads < 0) {
    return invalid_argument(where + "threads is " + std::to_string(o.threads) +
                            " (expected 0 for all hardware threads, or >= 1)");
  }
  if (o.batch_slots < 1) {
    return invalid_argument(where + "batch_slots is " + std::to_string(o.batch_slots) +
                            " (expected >= 1)");
  }
  if (o.kv != KvPrecision::kInt8 && o.kv != KvPrecision::kF16) {
    return invalid_argument(where + "kv precision " + std::to_string(static_cast<int>(o.kv)) +
                            " is unknown (expected int8 or f16)");
  }
  return {};
}

// int8 weights (with their scales and the embedding in its file encoding,
// bounded by 4 bytes per weight plus scales) and every slot's cache must fit
// in physical memory; checked before allocating so an oversized request
// fails cleanly instead of paging or being killed.
Status check_memory(const Model& model, int max_context, const Int8Options& o) {
  const ModelConfig& c = model.config();
  const auto g = static_cast<std::uint64_t>(o.group_size);
  const auto params = static_cast<std::uint64_t>(c.n_params());
  const std::uint64_t weight_bytes =
      params + params / g * 8 +
      static_cast<std::uint64_t>(c.n_vocab) * static_cast<std::uint64_t>(c.n_embd) * 4;
  const std::uint64_t per_slot = int8::KvCache::bytes_for(c, max_context, o.kv, g);
  const auto slots = static_cast<std::uint64_t>(o.batch_slots);
  const std::uint64_t have = physical_memory_bytes();
  const bool overflow =
      per_slot != 0 && slots > std::numeric_limits<std::uint64_t>::max() / per_slot;
  const std::uint64_t kv_bytes =
      overflow ? std::numeric_limits<std::uint64_t>::max() : per_slot * slots;
  if (weight_bytes > have || kv_bytes > have - weight_bytes) {
    return resource_exhausted(
        model.path() + ": the int8 session needs about " + std::to_string(weight_bytes) +
        " bytes of weights and " +
        (overflow ? std::string("more than 2^64") : std::to_string(kv_bytes)) + " bytes of " +
        kv_precision_name(o.kv) + " KV cache for " + std::to_string(o.batch_slots) +
        " slot(s) of max_context " + std::to_string(max_context) + " (this host has " +
        std::to_string(have) + " bytes)");
  }
  return {};
}

int thread_count(const Int8Options& o) {
  if (o.threads > 0) return o.threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

const char* kv_precision_name(KvPrecision kv) { return kv == KvPrecision::kF16 ? "f16" : "int8"; }

namespace int8 {

Result<Int8Session> create_session(const Model& model, int max_context, const Int8Options& options,
                                   kernels::Isa isa) {
  LPU_TRY(validate_options(model, max_context, options), "");
  const kernels::Int8Kernels* int8k = kernels::int8_kernels_for(isa);
  const kernels::FloatKernels* floatk = kernels::float_kernels_for(isa);
  if (int8k == nullptr || floatk == nullptr) {
    return failed_precondition(std::string("int8 session: this CPU cannot run the ") +
                               std::string(kernels::isa_name(isa)) + " kernels");
  }
  LPU_TRY(check_memory(model, max_context, options), "");
  const ModelConfig& c = model.config();
  const auto g = static_cast<std::size_t>(options.group_size);
  try {
    LPU_ASSIGN_OR_RETURN(Weights weights, load_weights(model::model_file(model), c, g));
    RopeAngles rope(c, weights.rope_freqs);
    auto impl = std::make_unique<Int8Session::Impl>(Int8Session::Impl{
        c, options, max_context, std::move(weights), std::move(rope), {}, {}, {}, {}});
    for (int s = 0; s < options.batch_slots; ++s) {
      impl->caches.emplace_back(c, max_context, options.kv, g);
    }
    impl->positions.assign(static_cast<std::size_t>(options.batch_slots), 0);
    impl->pool = std::make_unique<kernels::ThreadPool>(thread_count(options));
    impl->exec = Exec{&impl->config, int8k, floatk, impl->pool.get(), g};
    return Int8Session(std::move(impl));
  } catch (const std::bad_alloc&) {
    return resource_exhausted(model.path() + ": out of memory allocating the int8 session (" +
                              std::to_string(options.batch_slots) + " slot(s) of max_context " +
                              std::to_string(max_context) + ")");
  }
}

}  // namespace int8

namespace {

// Every check of a batch before anything changes.
Status validate_batch(const Int8Session::Impl& s, std::span<const SlotTokens> batch) {
  if (batch.empty())
    return invalid_argument("int8 forward: empty batch (expected at least one slot)");
  std::vector<bool> seen(s.positions.size(), false);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const SlotTokens& e = batch[b];
    const std::string entry = "int8 forward: batch entry " + std::to_string(b) + ": ";
    if (e.slot < 0 || static_cast<std::size_t>(e.slot) >= s.positions.size()) {
      return out_of_range(entry + "slot " + std::to_string(e.slot) + " (expected 0.." +
                          std::to_string(s.positions.size() - 1) + ")");
    }
    if (seen[static_cast<std::size_t>(e.slot)]) {
      return invalid_argument(entry + "slot " + std::to_string(e.slot) +
                              " appears twice in one batch");
    }
    seen[static_cast<std::size_t>(e.slot)] = true;
    if (e.tokens.empty()) return invalid_argument(entry + "no tokens (expected at least one)");
    for (std::size_t i = 0; i < e.tokens.size(); ++i) {
      if (e.tokens[i] < 0 || e.tokens[i] >= s.config.n_vocab) {
        return out_of_range(entry + "token " + std::to_string(i) + " has id " +
                            std::to_string(e.tokens[i]) + " (expected 0.." +
                            std::to_string(s.config.n_vocab - 1) + ": vocabulary size " +
                            std::to_string(s.config.n_vocab) + ")");
      }
    }
    const int pos = s.positions[static_cast<std::size_t>(e.slot)];
    if (e.tokens.size() > static_cast<std::size_t>(s.max_context - pos)) {
      return out_of_range(entry + "context full: slot " + std::to_string(e.slot) + " position " +
                          std::to_string(pos) + " + " + std::to_string(e.tokens.size()) +
                          " tokens exceeds max_context " + std::to_string(s.max_context));
    }
  }
  return {};
}

// lm_head over the rows each entry returns (all of its rows, or its last).
std::vector<float> logits(Int8Session::Impl& s, std::span<const SlotTokens> batch,
                          std::span<const int8::EntryPlan> plans,
                          const std::vector<float>& hidden) {
  const auto d = static_cast<std::size_t>(s.config.n_embd);
  std::size_t rows = 0;
  for (const SlotTokens& e : batch) rows += e.all_logits ? e.tokens.size() : 1;
  kernels::QuantizedRows hq(rows, d, s.exec.group_size);
  std::size_t at = 0;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const std::size_t n = batch[b].tokens.size();
    const std::size_t count = batch[b].all_logits ? n : 1;
    const std::size_t first = plans[b].row0 + n - count;
    kernels::quantize_rows(hidden.data() + first * d, d, hq, at, count, s.exec.int8);
    at += count;
  }
  std::vector<float> out(rows * static_cast<std::size_t>(s.config.n_vocab));
  int8::matmul(s.exec, s.weights.lm_head, hq, out.data());
  return out;
}

}  // namespace

Int8Session::Int8Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Int8Session::Int8Session(Int8Session&&) noexcept = default;
Int8Session& Int8Session::operator=(Int8Session&&) noexcept = default;
Int8Session::~Int8Session() = default;

Result<Int8Session> Int8Session::create(const Model& model, int max_context,
                                        const Int8Options& options) {
  return int8::create_session(model, max_context, options, kernels::active_isa());
}

Result<std::vector<float>> Int8Session::forward(std::span<const TokenId> tokens, bool all_logits) {
  const SlotTokens entry{0, tokens, all_logits};
  return forward_batch(std::span(&entry, 1));
}

Result<std::vector<float>> Int8Session::forward_batch(std::span<const SlotTokens> batch) {
  Impl& s = *impl_;
  LPU_TRY(validate_batch(s, batch), "");
  std::vector<int8::EntryPlan> plans(batch.size());
  std::size_t row = 0;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto slot = static_cast<std::size_t>(batch[b].slot);
    plans[b] = int8::EntryPlan{&s.caches[slot], batch[b].tokens, s.positions[slot], row};
    row += batch[b].tokens.size();
  }
  try {
    const std::vector<float> hidden = int8::forward_hidden(s.exec, s.weights, s.rope, plans);
    std::vector<float> out = logits(s, batch, plans, hidden);
    for (const SlotTokens& e : batch) {
      s.positions[static_cast<std::size_t>(e.slot)] += static_cast<int>(e.tokens.size());
    }
    return out;
  } catch (const std::bad_alloc&) {
    // Cache rows past each position may have been written; they are never
    // read before being written again, so the session is unchanged.
    return resource_exhausted("int8 forward: out of memory for a batch of " + std::to_string(row) +
                              " tokens");
  }
}

int Int8Session::position(int slot) const {
  if (slot < 0 || static_cast<std::size_t>(slot) >= impl_->positions.size()) return -1;
  return impl_->positions[static_cast<std::size_t>(slot)];
}

void Int8Session::reset() { std::fill(impl_->positions.begin(), impl_->positions.end(), 0); }

Status Int8Session::reset(int slot) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= impl_->positions.size()) {
    return out_of_range("int8 session: reset: slot " + std::to_string(slot) + " (expected 0.." +
                        std::to_string(impl_->positions.size() - 1) + ")");
  }
  impl_->positions[static_cast<std::size_t>(slot)] = 0;
  return {};
}

int Int8Session::max_context() const { return impl_->max_context; }

const Int8Options& Int8Session::options() const { return impl_->options; }

const ModelConfig& Int8Session::config() const { return impl_->config; }

}  // namespace lpu
