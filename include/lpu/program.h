#pragma once
// A compiled Program: per-chip instruction streams, the SRAM layout and the
// static latency of every step variant of one model on one target
// (docs/program-format.md). Built by `lpu compile` (or the compiler), saved
// and loaded as a checksummed file, run by a Device (lpu/device.h).
// Immutable once built; copies share it, and it may be read from any
// number of threads.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lpu/model.h"
#include "lpu/progress.h"
#include "lpu/status.h"

namespace lpu {

/// One step variant: decode at a context bucket, or a prefill chunk.
struct ProgramVariant {
  std::string name;  ///< "decode.ctx2048", "prefill.ctx2048"
  bool prefill = false;
  std::uint32_t context = 0;  ///< KV positions it attends over
  std::uint32_t rows = 0;     ///< token rows per step
  /// Rows whose logits the step writes: `rows`, or 1 for a prefill chunk
  /// that writes only its last row's (CompileOptions::all_logits).
  std::uint32_t logit_rows = 0;
  std::uint64_t static_latency_cycles = 0;
};

/// What to compile for (0 / empty: the target's or model's default).
struct CompileOptions {
  /// Chips of the system; 0: the least number that fits.
  std::uint32_t chips = 0;
  /// Batch slots (rows of a decode step).
  std::uint32_t slots = 1;
  /// Largest context bucket; 0: the model's training context.
  std::uint32_t max_context = 0;
  /// Group size G; 0: the target's K tile.
  std::uint32_t group = 0;
  /// "int8" or "f16"; empty: the target's default.
  std::string kv;
  /// Tokens per prefill chunk; 0: the target's default (64; 128 on
  /// cpu-host), at most max_context.
  std::uint32_t prefill_chunk = 0;
  /// Prefill chunks write every row's logits (to score a text); by
  /// default only the last row's, the one the next token needs.
  bool all_logits = false;
  /// Fold per-channel activation smoothing into the weights when they are
  /// imported (docs/quantization.md, "Smoothing"): calibrated once, with
  /// the fp32 reference on a built-in text, and recorded in the Program.
  /// Exact in real arithmetic; it makes the int8 pass more faithful.
  bool smoothing = true;
  /// Rotate the residual stream when the weights are imported
  /// (docs/quantization.md, "Rotation"): a randomised Hadamard rotation
  /// with the norms folded into the matrices that read them, recorded in
  /// the Program. Exact in real arithmetic; kept when calibration finds it
  /// lowers the simulated int8 error at the Program's G (it spreads
  /// outliers of the residual stream over all channels, but gathers the
  /// norms' own outliers into the weights); skipped for widths it has no
  /// Hadamard matrix for.
  bool rotation = true;
  /// Load an earlier compile of the same inputs from the Program cache
  /// (~/.cache/lpu/programs or $LPU_CACHE_DIR), and store new ones there;
  /// the cache keeps to $LPU_CACHE_MAX_BYTES (default 2 GiB), deleting the
  /// least recently used Programs.
  bool use_cache = true;
  /// Told the stages of a compile ("hashing model", "compiling" per
  /// variant, "loading Program" from the cache).
  ProgressCallback progress;
};

class Program;

/// Compiles `model` for `target` (a preset name or a JSON file). A model
/// that does not fit says what it needs and the least number of chips that
/// would hold it.
Result<Program> compile_program(const Model& model, const std::string& target,
                                const CompileOptions& options = {});

class Program {
 public:
  /// Reads and validates a Program file.
  static Result<Program> load(const std::string& path);
  Status save(const std::string& path) const;

  /// SHA-256 of the Program's bytes.
  const std::string& hash() const;
  const std::string& model_hash() const;
  const std::string& target_name() const;
  const std::string& target_hash() const;
  std::uint32_t group_size() const;
  /// "int8" or "f16".
  const std::string& kv() const;
  /// The activation smoothing folded into the weights at import: "none",
  /// or its method, alpha and calibration tokens with their SHA-256.
  std::string smoothing() const;
  /// The rotation of the residual stream folded in at import: "none" or
  /// "hadamard (seed N)".
  std::string rotation() const;
  /// The transforms in one word: "none", "smoothquant", "hadamard" or
  /// "smoothquant+hadamard".
  std::string weight_transforms() const;
  std::uint32_t slots() const;
  std::uint32_t chips() const;
  double clock_hz() const;
  std::vector<ProgramVariant> variants() const;
  /// The static latency of a decode step at the largest context bucket:
  /// the compiler's per-token guarantee, in cycles of clock_hz().
  std::uint64_t decode_latency_cycles() const;

  /// Library internals (lib/program), defined in runtime/device/program_access.h.
  struct Impl;

 private:
  friend struct internal::Access;
  explicit Program(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace lpu
