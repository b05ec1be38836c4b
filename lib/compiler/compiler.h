#pragma once
// The static scheduler's entry point: a model (configuration and weight
// encodings) and a target in, a Program out, through
//   partition (partition.h) -> place (place.h) -> schedule (lower.h over
//   schedule.h, once per step variant) -> emit,
// each stage a function of its inputs alone, so the same inputs give a
// byte-identical Program. The lower bound (lower_bound.h) is computed
// apart from the scheduler, from the graph, the partition and the target.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/progress.h"
#include "include/lpu/status.h"
#include "lib/program/program.h"
#include "lib/target/target.h"

namespace lpu::compiler {

struct CompileOptions {
  /// Chips of the system; 0 compiles for the least number that fits.
  std::uint32_t chips = 0;
  /// Batch slots (rows of a decode step).
  std::uint32_t slots = 1;
  /// Largest context bucket; 0 means the model's training context.
  std::uint32_t max_context = 0;
  /// Group size G; 0 means the target's K tile.
  std::uint32_t group = 0;
  /// "int8" or "f16"; empty means the target's default.
  std::string kv;
  /// Tokens per prefill chunk; 0 means the target's default_prefill_chunk
  /// (at most max_context).
  std::uint32_t prefill_chunk = 0;
  /// Prefill steps write every row's logits (to score a text); by default
  /// only the last row's, the one the next token needs.
  bool all_logits = false;
};

/// What the compiler needs of a model: its configuration, how the token
/// embedding is stored (a lookup table kept in its file encoding), and a
/// hash that identifies it.
struct ModelInput {
  ModelConfig config;
  /// GGUF type id and row bytes of token_embd.weight (F16 for shapes).
  std::uint32_t embd_type = 1;
  std::uint64_t embd_row_bytes = 0;
  /// Elements per block of that type (1 for F32/F16, 32 for Q8_0...).
  std::uint32_t embd_block = 1;
  std::uint64_t embd_block_bytes = 2;
  std::string hash;
  /// Activation smoothing and rotation the backends fold into the weights
  /// at import, copied into the Program (calibrated by the caller: it needs
  /// the weights, which the compiler never reads). A rotation also changes
  /// the embedding's encoding (use_rotation).
  program::Smoothing smoothing;
  program::Rotation rotation;
  /// The transforms asked for, when calibration decides the records (the
  /// cache key then names the request, not its outcome); empty: the
  /// records themselves identify them.
  std::string transform_request;
};

/// What identifies the weight transforms for caching: smoothing method,
/// alpha and calibration hash (the factors follow from them and the
/// model), rotation method and seed.
std::string transform_key(const ModelInput& m);

/// Sets m.rotation; the embedding table then holds rotated rows, as Q8_0
/// (F32 when n_embd is not a multiple of 32).
void use_rotation(ModelInput& m, program::Rotation rotation);

/// A config-only model (a shape preset): F16 embedding, hash of the config.
ModelInput model_input_from_config(const ModelConfig& config);
/// A model file: its configuration, embedding encoding and a hash of its
/// configuration and tensor list.
Result<ModelInput> model_input_from_file(const std::string& path);

/// Told ("compiling", variants done, variants) while compiling.
using Progress = ProgressCallback;

/// Per op of one variant: which resource binds it and by how much.
struct OpBinding {
  std::uint32_t op = 0;
  std::uint64_t start = 0;   ///< first issue among its instructions
  std::uint64_t end = 0;     ///< last result landing
  std::string resource;      ///< "weight_load", "matrix", "vector", "c2c", "sram", "latency"
  std::uint64_t busy_cycles = 0;  ///< cycles of that resource the op used (busiest chip)
  std::uint64_t bound_cycles = 0;  ///< the op's own best time (lower_bound.h)
  std::string bound_resource;      ///< what sets that best time
};

/// A variant's lower bound and what sets it.
struct Bound {
  std::uint64_t critical_path = 0;
  std::uint64_t busiest_resource = 0;
  std::string busiest_name;
  std::uint64_t partition_free = 0;  ///< total work / (chips x rate), max over resources
  std::uint64_t cycles() const { return critical_path > busiest_resource ? critical_path : busiest_resource; }
};

struct VariantReport {
  std::string name;
  Bound bound;
  std::vector<OpBinding> ops;
  /// Busy cycles per resource class, summed over chips.
  std::vector<std::pair<std::string, std::uint64_t>> busy;
  /// Energy of one step in joules (dynamic, from per-operation figures,
  /// plus static power over the step).
  double energy_j = 0;
};

struct Compiled {
  program::Program program;
  std::vector<VariantReport> reports;  ///< one per variant, same order
  std::uint32_t tp = 1;                ///< chips per pipeline stage
  std::uint32_t stages = 1;
  std::uint32_t chips_used = 1;
  double compile_seconds = 0;
};

/// Compiles `model` for `target`. A model that does not fit returns a
/// resource_exhausted Status saying what each kind of data needs, what the
/// target offers and, on its last line, the least number of chips that fit.
Result<Compiled> compile(const ModelInput& model, const target::Target& target,
                         const CompileOptions& options, const Progress& progress = {});

}  // namespace lpu::compiler
