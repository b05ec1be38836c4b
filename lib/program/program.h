#pragma once
// A Program: what the compiler emits and both backends run. It holds no
// weights: per-chip instruction streams for every step variant, the SRAM
// layout (which bytes of which tensor live on which chip, pool and offset,
// in which encoding), the op table, the index registers, and metadata.
// Binary form in format.cpp (versioned header, SHA-256 checksum, a loader
// that validates everything before use); text form in disasm.cpp.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "include/lpu/status.h"
#include "lib/isa/isa.h"

namespace lpu::program {

/// Format version: a reader accepts the same major and any minor <= its own.
inline constexpr std::uint16_t kFormatMajor = 2;
inline constexpr std::uint16_t kFormatMinor = 2;

/// How a layout entry's bytes are built from the model when a backend loads.
enum class Encoding : std::uint8_t {
  /// int8 weights in the tiled 16c4 layout (docs/isa.md, "Weight tiles"):
  /// rows [n0, n1) of the source matrix, blocks of tile_n columns x seg k.
  kTiledS8 = 0,
  /// fp32 values of the source tensor (norm weights, the MoE router).
  kF32 = 1,
  /// Rows of the source tensor exactly as the GGUF file stores them
  /// (the token embedding: looked up, never multiplied).
  kGgufRows = 2,
  /// Zero-initialised state: the KV cache of one slot, activations.
  kZero = 3,
  /// This chip's instruction text (instruction_bytes per instruction).
  kText = 4,
  /// A KV cache's values: tiled int8 blocks (n0.., k, tile_n, seg, group
  /// as for kTiledS8) of zeros whose header scales are all 1.0 (the
  /// per-position value scales are folded into the probabilities).
  kZeroUnitScales = 5,
  kEncodingCount = 6,
};
std::string_view encoding_name(Encoding e);

/// What a region holds (for reports and the SRAM map).
enum class DataKind : std::uint8_t {
  kWeights = 0,
  kKv = 1,
  kActivations = 2,
  kInstructions = 3,
  kDataKindCount = 4,
};
std::string_view data_kind_name(DataKind k);

struct LayoutEntry {
  /// Source tensor ("blk.3.attn_q.weight"), or a name for state
  /// ("kv.slot0.blk.3.k", "act.x", "text").
  std::string name;
  std::uint32_t chip = 0;
  std::uint8_t pool = 0;
  Encoding encoding = Encoding::kZero;
  DataKind kind = DataKind::kActivations;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  // kTiledS8 and kGgufRows: the slice of the source. Matrices are GGML
  // [k, n] (k contiguous); an expert tensor's slice is expert `expert`.
  std::uint32_t n0 = 0, n1 = 0;
  std::uint32_t k = 0;
  std::uint32_t expert = 0;
  std::uint32_t tile_n = 0;
  std::uint32_t seg = 0;
  std::uint32_t group = 0;
};

/// One graph op (instructions carry its id).
struct OpRecord {
  std::string name;  ///< "blk.3.ffn_up", "blk.3.attn", "lm_head"
  std::string kind;  ///< "matmul", "rmsnorm", "attention", ...
  std::int32_t layer = -1;
};

/// An index register of one chip: operands that name it add
/// value * stride_bytes to their offset; value < count.
struct IndexRegister {
  std::uint32_t chip = 0;
  std::uint16_t reg = 0;
  std::uint64_t stride_bytes = 0;
  std::uint32_t count = 0;
  std::string meaning;  ///< "slot 0 position", "blk.3 expert slot 1"
};

/// Register 1 of every chip that holds a KV cache: the slot a prefill step
/// appends to, set by the runtime before the step.
inline constexpr std::uint16_t kPrefillSlotRegister = 1;

enum class VariantKind : std::uint8_t { kDecode = 0, kPrefill = 1 };

/// One step variant: decode at a context bucket, or a prefill chunk.
struct Variant {
  std::string name;  ///< "decode.ctx2048", "prefill.ctx2048"
  VariantKind kind = VariantKind::kDecode;
  std::uint32_t context = 0;  ///< KV positions the variant can attend over
  std::uint32_t rows = 0;     ///< token rows per step (slots, or chunk tokens)
  /// A prefill step that writes only its last row's logits, into the
  /// logits buffer's row 0 (format 2.1); otherwise every row's.
  bool last_row_logits = false;
  std::uint64_t static_latency_cycles = 0;
  std::uint64_t lower_bound_cycles = 0;
  /// Cycles between step starts when steps of different slots overlap in
  /// the pipeline: the longest span, over chips, from a chip's first
  /// instruction that needs the step's data to its last instruction.
  std::uint64_t initiation_interval_cycles = 0;
  /// Per chip, the instructions in issue order.
  std::vector<std::vector<isa::Instruction>> streams;
};

struct Metadata {
  std::string model_name;
  std::string model_hash;   ///< SHA-256 hex of the model's configuration and tensor list
  std::string target_name;
  std::string target_hash;  ///< lpu::target::target_hash
  std::string options_hash;
  std::uint32_t group = 0;
  std::string kv = "int8";  ///< "int8" or "f16"
  std::uint32_t slots = 0;
  std::uint32_t chips = 0;
  double clock_hz = 0;
  float rms_eps = 0;
};

/// Per-channel activation smoothing folded into the weights when a backend
/// imports them (format 2.2; lib/quant/smoothing.h has the rules): the
/// factor of channel j at a site of layer l is 2^log2_factors[l][j].
struct SmoothingSite {
  std::string name;  ///< "attention_input", "attention_output", "ffn_input", "down_input", "output_input"
  std::vector<std::vector<std::int8_t>> log2_factors;  ///< per layer, per channel
};

struct Smoothing {
  std::string method;  ///< empty (none) or "smoothquant"
  float alpha = 0;
  /// SHA-256 hex of the calibration token ids (little-endian int32).
  std::string calibration_hash;
  std::uint32_t calibration_tokens = 0;
  std::vector<SmoothingSite> sites;

  bool enabled() const { return !method.empty(); }
};

/// A rotation of the residual stream folded into the weights when a backend
/// imports them (format 2.2; lib/quant/hadamard.h): norms folded into the
/// matrices that read them, readers W R, writers R^T W, embedding rows E R.
struct Rotation {
  std::string method;  ///< empty (none) or "hadamard"
  std::uint64_t seed = 0;

  bool enabled() const { return !method.empty(); }
};

struct Program {
  Metadata meta;
  Smoothing smoothing;
  Rotation rotation;
  std::vector<std::string> pool_names;
  std::vector<LayoutEntry> layout;
  std::vector<OpRecord> ops;
  std::vector<IndexRegister> registers;
  std::vector<Variant> variants;

  /// The variant named `name`, or null.
  const Variant* find_variant(std::string_view name) const;
};

/// The binary form (byte-identical for equal Programs).
std::vector<std::uint8_t> serialize(const Program& p);
/// Parses and validates; `source` names the file in errors, which give
/// the byte offset and field: "p.lpuprog @0x40: variants[1].streams[3]: count 9999999 exceeds the 120 bytes left".
Result<Program> deserialize(std::span<const std::uint8_t> bytes, std::string_view source);
Status write_program(const Program& p, const std::string& path);
/// Writes already-built file bytes (compress_program(serialize(p))) the
/// way write_program does: to a temporary beside `path`, then renamed.
Status write_program_bytes(std::span<const std::uint8_t> bytes, const std::string& path);
Result<Program> read_program(const std::string& path);
/// SHA-256 hex of serialize(p).
std::string program_hash(const Program& p);

/// Checks meaning after parsing: indices in range (chips, pools, ops,
/// registers), operands inside their pool's capacity (given), layout
/// entries inside their pool and not overlapping on one chip.
Status validate(const Program& p, std::span<const std::uint64_t> pool_capacity,
                std::string_view source);

/// Text form: header, layout, registers, ops, each variant's per-chip
/// instructions (`lpu disasm`).
std::string disassemble(const Program& p);

}  // namespace lpu::program
