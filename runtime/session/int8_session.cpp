// lpu::Int8Session: the CPU backend running a cpu-host Program compiled for
// the session's options (slots, context, G, KV precision), every prefill
// row's logits kept. The checks that keep a failed call from changing the
// session come first.
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <thread>

#include "include/lpu/device.h"
#include "include/lpu/program.h"
#include "kernels/dispatch/int8_kernels.h"
#include "lib/core/access.h"
#include "kernels/float/float_kernels.h"
#include "kernels/quantize/quantized_rows.h"
#include "lib/core/physical_memory.h"
#include "lib/target/target.h"
#include "runtime/cpu/cpu_device.h"
#include "runtime/device/batch_runner.h"
#include "runtime/session/int8_session_internal.h"

namespace lpu {

struct Int8Session::Impl {
  ModelConfig config;
  Int8Options options;
  int max_context = 0;
  std::optional<Program> program;
  std::unique_ptr<Device> device;  // outlives the runner, which points at it
  std::unique_ptr<runtime::BatchRunner> runner;
};

namespace {

Status validate_options(const Model& model, int max_context, const Int8Options& o) {
  const std::string where = model.path() + ": int8 session: ";
  if (max_context < 1) {
    return invalid_argument(where + "max_context is " + std::to_string(max_context) + " (expected >= 1)");
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
    return invalid_argument(where + "batch_slots is " + std::to_string(o.batch_slots) + " (expected >= 1)");
  }
  if (o.kv != KvPrecision::kInt8 && o.kv != KvPrecision::kF16) {
    return invalid_argument(where + "kv precision " + std::to_string(static_cast<int>(o.kv)) +
                            " is unknown (expected int8 or f16)");
  }
  return {};
}

// int8 weights with their scales (the embedding bounded by 4 bytes per
// weight) and every slot's cache must fit in physical memory; checked
// before compiling so an oversized request fails cleanly instead of paging
// or being killed.
Status check_memory(const Model& model, int max_context, const Int8Options& o) {
  const ModelConfig& c = model.config();
  const auto g = static_cast<std::uint64_t>(o.group_size);
  const auto params = static_cast<std::uint64_t>(c.n_params());
  const std::uint64_t weight_bytes =
      params + params / g * 8 + static_cast<std::uint64_t>(c.n_vocab) * static_cast<std::uint64_t>(c.n_embd) * 4;
  // Keys and values of every layer and KV head, with a scale per position
  // for int8.
  const std::uint64_t per_position =
      static_cast<std::uint64_t>(c.n_layer) * static_cast<std::uint64_t>(c.n_head_kv) *
      (o.kv == KvPrecision::kF16 ? 4ull * static_cast<std::uint64_t>(c.head_dim)
                                 : 2ull * static_cast<std::uint64_t>(c.head_dim) + 8);
  const auto slots = static_cast<std::uint64_t>(o.batch_slots);
  const auto ctx = static_cast<std::uint64_t>(max_context);
  const std::uint64_t have = physical_memory_bytes();
  const bool overflow = per_position != 0 && slots * ctx > std::numeric_limits<std::uint64_t>::max() / per_position;
  const std::uint64_t kv_bytes = overflow ? std::numeric_limits<std::uint64_t>::max() : per_position * slots * ctx;
  if (weight_bytes > have || kv_bytes > have - weight_bytes) {
    return resource_exhausted(model.path() + ": the int8 session needs about " + std::to_string(weight_bytes) +
                              " bytes of weights and " +
                              (overflow ? std::string("more than 2^64") : std::to_string(kv_bytes)) +
                              " bytes of " + kv_precision_name(o.kv) + " KV cache for " +
                              std::to_string(o.batch_slots) + " slot(s) of max_context " +
                              std::to_string(max_context) + " (this host has " + std::to_string(have) + " bytes)");
  }
  return {};
}

// Every check of a batch before anything changes.
Status validate_batch(const Int8Session::Impl& s, std::span<const SlotTokens> batch) {
  if (batch.empty())
    return invalid_argument("int8 forward: empty batch (expected at least one slot)");
  std::vector<bool> seen(static_cast<std::size_t>(s.options.batch_slots), false);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const SlotTokens& e = batch[b];
    const std::string entry = "int8 forward: batch entry " + std::to_string(b) + ": ";
    if (e.slot < 0 || static_cast<std::size_t>(e.slot) >= static_cast<std::size_t>(s.options.batch_slots)) {
      return out_of_range(entry + "slot " + std::to_string(e.slot) + " (expected 0.." +
                          std::to_string(static_cast<std::size_t>(s.options.batch_slots) - 1) + ")");
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
    const int pos = s.runner->position(static_cast<std::uint32_t>(e.slot));
    if (e.tokens.size() > static_cast<std::size_t>(s.max_context - pos)) {
      return out_of_range(entry + "context full: slot " + std::to_string(e.slot) + " position " +
                          std::to_string(pos) + " + " + std::to_string(e.tokens.size()) +
                          " tokens exceeds max_context " + std::to_string(s.max_context));
    }
  }
  return {};
}

}  // namespace

const char* kv_precision_name(KvPrecision kv) { return kv == KvPrecision::kF16 ? "f16" : "int8"; }

namespace int8 {

Result<Int8Session> create_session(const Model& model, int max_context, const Int8Options& options,
                                   kernels::Isa isa) {
  LPU_TRY(validate_options(model, max_context, options), "");
  if (kernels::int8_kernels_for(isa) == nullptr || kernels::float_kernels_for(isa) == nullptr) {
    return failed_precondition(std::string("int8 session: this CPU cannot run the ") +
                               std::string(kernels::isa_name(isa)) + " kernels");
  }
  LPU_TRY(check_memory(model, max_context, options), "");
  CompileOptions co;
  co.slots = static_cast<std::uint32_t>(options.batch_slots);
  co.max_context = static_cast<std::uint32_t>(max_context);
  co.group = static_cast<std::uint32_t>(options.group_size);
  co.kv = kv_precision_name(options.kv);
  co.all_logits = true;  // forward(..., all_logits) may ask for any row
  co.smoothing = options.smoothing;
  co.rotation = options.rotation;
  const std::string where = model.path() + ": int8 session";
  try {
    auto impl = std::make_unique<Int8Session::Impl>();
    impl->config = model.config();
    impl->options = options;
    impl->max_context = max_context;
    LPU_ASSIGN_OR_RETURN(Program program, compile_program(model, "cpu-host", co));
    impl->program.emplace(std::move(program));
    LPU_ASSIGN_OR_RETURN(target::Target t, target::target_preset("cpu-host"));
    DeviceOptions d;
    d.threads = options.threads;
    LPU_ASSIGN_OR_RETURN(impl->device, cpu::open_cpu_device(std::move(t), d, isa));
    LPU_TRY(impl->device->load(*impl->program, model), where);
    LPU_ASSIGN_OR_RETURN(runtime::BatchRunner runner,
                         runtime::BatchRunner::create(*impl->device, *impl->program,
                                                      static_cast<std::uint32_t>(model.config().n_vocab)));
    impl->runner = std::make_unique<runtime::BatchRunner>(std::move(runner));
    return internal::Access::wrap<Int8Session>(std::move(impl));
  } catch (const std::bad_alloc&) {
    return resource_exhausted(where + ": out of memory (" + std::to_string(options.batch_slots) +
                              " slot(s) of max_context " + std::to_string(max_context) + ")");
  }
}

}  // namespace int8

Int8Session::Int8Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Int8Session::Int8Session(Int8Session&&) noexcept = default;
Int8Session& Int8Session::operator=(Int8Session&&) noexcept = default;
Int8Session::~Int8Session() = default;

Result<Int8Session> Int8Session::create(const Model& model, int max_context, const Int8Options& options) {
  return int8::create_session(model, max_context, options, kernels::active_isa());
}

Result<std::vector<float>> Int8Session::forward(std::span<const TokenId> tokens, bool all_logits) {
  const SlotTokens entry{0, tokens, all_logits};
  return forward_batch(std::span(&entry, 1));
}

Result<std::vector<float>> Int8Session::forward_batch(std::span<const SlotTokens> batch) {
  Impl& s = *impl_;
  LPU_TRY(validate_batch(s, batch), "");
  std::vector<runtime::BatchRunner::Entry> entries;
  for (const SlotTokens& e : batch) entries.push_back({static_cast<std::uint32_t>(e.slot), e.tokens, e.all_logits});
  try {
    LPU_ASSIGN_OR_RETURN(std::span<const float> l, s.runner->forward(entries));
    return std::vector<float>(l.begin(), l.end());
  } catch (const std::bad_alloc&) {
    return resource_exhausted("int8 forward: out of memory");
  }
}

int Int8Session::position(int slot) const {
  if (slot < 0 || slot >= impl_->options.batch_slots) return -1;
  return impl_->runner->position(static_cast<std::uint32_t>(slot));
}

void Int8Session::reset() {
  for (std::uint32_t s = 0; s < impl_->runner->slots(); ++s) impl_->runner->reset(s);
}

Status Int8Session::reset(int slot) {
  if (slot < 0 || slot >= impl_->options.batch_slots) {
    return out_of_range("int8 session: reset: slot " + std::to_string(slot) + " (expected 0.." +
                        std::to_string(impl_->options.batch_slots - 1) + ")");
  }
  impl_->runner->reset(static_cast<std::uint32_t>(slot));
  return {};
}

int Int8Session::max_context() const { return impl_->max_context; }

const Int8Options& Int8Session::options() const { return impl_->options; }

const Program& Int8Session::program() const { return *impl_->program; }

const ModelConfig& Int8Session::config() const { return impl_->config; }

}  // namespace lpu
