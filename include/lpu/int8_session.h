#pragma once
// The int8 forward pass: the fp32 reference's graph (Llama and Mixtral,
// prefill and decode, KV cache) with every weight matmul in the project's
// int8 scheme (docs/quantization.md) and attention over an int8 (or fp16)
// KV cache. A session is the CPU backend running a cpu-host Program
// compiled for its options (the Program cache keeps the compile for the
// next session), so its logits are both backends' on any target; every
// float operation runs in one fixed order, so they do not depend on the
// thread count, the kernel path (ISA), or which other sequences share a
// batch and in which slots.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lpu/model.h"
#include "lpu/program.h"
#include "lpu/status.h"
#include "lpu/token.h"

namespace lpu {

/// How the KV cache stores keys and values.
enum class KvPrecision : std::uint8_t {
  /// int8 with one fp32 scale per (token, KV head); QK^T and PV are int8
  /// matmuls with exact int32 sums (docs/quantization.md, "Attention in int8").
  kInt8,
  /// IEEE binary16, QK^T and PV in fp32 in a fixed order; kept to measure
  /// what the int8 cache costs in fidelity.
  kF16,
};

/// "int8" or "f16".
const char* kv_precision_name(KvPrecision kv);

/// Options recorded with an Int8Session.
struct Int8Options {
  /// G: consecutive k sharing one fp32 scale, in weights and activations; a
  /// multiple of 32 in [32, 65536]. 32 imports Q8_0 weights without loss.
  int group_size = 256;
  /// KV cache precision.
  KvPrecision kv = KvPrecision::kInt8;
  /// Worker threads (the calling thread included); 0 uses every hardware
  /// thread. Results are the same for any count.
  int threads = 0;
  /// Independent sequences the session holds, each with its own KV cache of
  /// max_context tokens and its own position.
  int batch_slots = 1;
  /// Weight transforms folded in at import (CompileOptions::smoothing, ::rotation).
  bool smoothing = true;
  bool rotation = true;
};

/// New tokens for one slot in a forward_batch() call.
struct SlotTokens {
  /// Which sequence, 0 .. batch_slots - 1; each slot at most once per call.
  int slot = 0;
  /// Tokens appended at the slot's position (at least one).
  std::span<const TokenId> tokens;
  /// Return logits for every token of this entry, not only the last.
  bool all_logits = false;
};

/// Sequences evaluated by the int8 forward pass. Owns the int8 weights
/// (imported and packed once by create()) and one KV cache per slot; it
/// does not keep a reference to the Model.
class Int8Session {
 public:
  /// Imports `model`'s weights at options.group_size (Q8_0 at G = 32 is
  /// copied exactly, other types are dequantised and requantised) and
  /// allocates options.batch_slots KV caches of `max_context` tokens.
  /// Errors: max_context < 1, a group size that is not a multiple of 32 in
  /// [32, 65536], threads < 0, batch_slots < 1, or (resource_exhausted)
  /// weights and caches that would not fit in this host's memory.
  static Result<Int8Session> create(const Model& model, int max_context,
                                    const Int8Options& options = {});

  Int8Session(Int8Session&&) noexcept;
  Int8Session& operator=(Int8Session&&) noexcept;
  ~Int8Session();

  /// Appends `tokens` to slot 0 and returns their logits: n_tokens x n_vocab
  /// row-major when `all_logits`, else the last token's n_vocab logits.
  /// Same errors as forward_batch().
  Result<std::vector<float>> forward(std::span<const TokenId> tokens, bool all_logits);

  /// Appends each entry's tokens to its slot, all in one pass (the weight
  /// matmuls see every new token of every entry as one batch), and returns
  /// the logits of the entries in order: per entry, n_tokens rows of
  /// n_vocab when all_logits, else its last token's row. A sequence's logits
  /// are bit-identical whatever else is in the batch. Errors, which leave
  /// the session unchanged: an empty batch, a slot outside [0, batch_slots)
  /// or named twice, an entry without tokens, a token id outside [0,
  /// n_vocab), or a slot whose position + n_tokens exceeds max_context.
  Result<std::vector<float>> forward_batch(std::span<const SlotTokens> batch);

  /// Tokens in slot `slot`'s KV cache (the position of its next token), or
  /// -1 when `slot` is outside [0, batch_slots).
  int position(int slot = 0) const;
  /// Empties the KV cache of every slot.
  void reset();
  /// Empties the KV cache of `slot`; an error for a slot outside
  /// [0, batch_slots), which changes nothing.
  Status reset(int slot);
  /// Capacity of each slot's KV cache, in tokens.
  int max_context() const;
  /// The options the session was created with (threads as given).
  const Int8Options& options() const;
  /// The Program the session runs (its G, KV precision and the weight
  /// transforms calibration chose: Program::smoothing(), ::rotation()).
  const Program& program() const;
  const ModelConfig& config() const;

  /// Library internals, defined in runtime/session/int8_session.cpp.
  struct Impl;

 private:
  friend struct internal::Access;
  explicit Int8Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lpu
