#pragma once
// An LPU target: the parameterised chip and multi-chip system the compiler
// schedules for and the simulator models. One struct, loaded from JSON
// (target_json.cpp) or taken from a built-in preset (presets.cpp).
//
// The machine model, in short (docs/ARCHITECTURE.md, "Targets"):
//  - SRAM is a list of pools (software tiers: ranges of memory slices).
//    A pool is cut into `banks` contiguous banks of capacity / banks bytes;
//    each bank serves one read stream and one write stream per cycle, at
//    bank_read/bank_write bytes per cycle. An instruction holds, for its
//    whole duration, the read side of every bank its source operands touch
//    and the write side of every bank its destination touches. Operands
//    reach a unit `latency` cycles after issue (by distance to the unit).
//  - The matrix unit has `planes` independent planes. A plane holds
//    weight tiles of tile_k x tile_n int8 weights in a buffer of
//    weight_buffer_tiles tiles, loaded at weight_load_bytes_per_cycle, and
//    does macs_per_cycle int8 multiply-accumulates per cycle.
//  - The vector unit does lanes x alus_per_lane element operations per
//    cycle; the switch unit moves switch_bytes_per_cycle.
//  - Chips talk over links with a fixed hop latency; transfers get fixed
//    slots with a guard band for the latency's spread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "include/lpu/status.h"

namespace lpu::target {

/// What a pool is meant to hold (a bit set); the placer only puts a kind
/// of data into pools that allow it.
enum PoolUse : std::uint32_t {
  kUseActivations = 1u << 0,  ///< per-step activations, token ids, logits
  kUseKv = 1u << 1,           ///< KV cache slots
  kUseWeights = 1u << 2,      ///< int8 weights, scales, norms, embeddings
  kUseInstructions = 1u << 3, ///< program text
};

/// The functional units an operand can travel to (for latency by distance).
enum class UnitKind : std::uint8_t { kMatrix = 0, kVector = 1, kSwitch = 2, kLink = 3 };
inline constexpr int kUnitKinds = 4;

/// Most pools a target may have: instructions name a pool in one byte, and
/// 0xff means "no operand" (lib/isa/isa.h kNoPool).
inline constexpr std::size_t kMaxPools = 250;

/// The PoolUse bits of `uses` by name, in bit order, joined by '+'
/// ("activations+kv"); "none" when no bit is set.
std::string pool_uses_string(std::uint32_t uses);

struct Pool {
  std::string name;
  std::uint64_t capacity_bytes = 0;
  std::uint32_t banks = 1;
  /// Bytes one bank reads (writes) per cycle.
  std::uint32_t bank_read_bytes_per_cycle = 0;
  std::uint32_t bank_write_bytes_per_cycle = 0;
  /// Cycles from issue until an operand of this pool reaches each unit kind
  /// (indexed by UnitKind), and until a result written here lands.
  std::uint32_t latency[kUnitKinds] = {0, 0, 0, 0};
  /// PoolUse bits.
  std::uint32_t uses = 0;

  std::uint64_t bank_bytes() const { return capacity_bytes / banks; }
  bool operator==(const Pool&) const = default;
};

struct MatrixUnit {
  std::uint32_t planes = 1;
  /// K extent of one weight tile (the K tile) and output columns per tile.
  std::uint32_t tile_k = 0;
  std::uint32_t tile_n = 0;
  /// Tiles one plane holds loaded (the active one included): what can be
  /// preloaded while the previous tile computes.
  std::uint32_t weight_buffer_tiles = 2;
  /// Weight bytes one plane loads per cycle.
  std::uint32_t weight_load_bytes_per_cycle = 0;
  /// int8 multiply-accumulates one plane does per cycle (tile_k x tile_n
  /// on a systolic plane that takes one activation row per cycle).
  std::uint64_t macs_per_cycle = 0;
  /// Cycles from a plane's last input to its result.
  std::uint32_t pipeline_latency = 0;
  bool operator==(const MatrixUnit&) const = default;
};

struct VectorUnit {
  std::uint32_t lanes = 0;
  std::uint32_t alus_per_lane = 0;
  std::uint32_t pipeline_latency = 0;
  std::uint64_t ops_per_cycle() const { return std::uint64_t{lanes} * alus_per_lane; }
  bool operator==(const VectorUnit&) const = default;
};

struct SwitchUnit {
  std::uint32_t bytes_per_cycle = 0;
  std::uint32_t pipeline_latency = 0;
  bool operator==(const SwitchUnit&) const = default;
};

/// Chip-to-chip links of one chip.
struct Links {
  std::uint32_t count = 0;
  /// Bytes per cycle per link per direction.
  double bytes_per_cycle = 0;
  /// Mean hop latency in cycles and its standard deviation.
  std::uint32_t hop_latency_cycles = 0;
  double hop_latency_sigma_cycles = 0;
  /// Chip counters are resynchronised every resync_period_cycles, which
  /// costs every link resync_cycles (0 period: never).
  std::uint64_t resync_period_cycles = 0;
  std::uint32_t resync_cycles = 0;
  bool operator==(const Links&) const = default;
};

/// How chips connect: fully connected nodes, nodes in racks, racks in a
/// network of global links.
struct Topology {
  std::uint32_t chips_per_node = 1;
  /// Links from each chip to each other chip of its node (chips_per_node-1
  /// of them), and links per chip that leave the node.
  std::uint32_t local_links = 0;
  std::uint32_t global_links = 0;
  std::uint32_t nodes_per_rack = 1;
  std::uint32_t max_racks = 1;
  /// "dragonfly" (racks all-to-all over global links) or "none".
  std::string rack_network = "none";
  /// Extra hops between chips of different nodes in one rack, and of
  /// different racks.
  std::uint32_t hops_within_rack = 1;
  std::uint32_t hops_between_racks = 3;

  std::uint64_t max_chips() const {
    return std::uint64_t{chips_per_node} * nodes_per_rack * max_racks;
  }
  bool operator==(const Topology&) const = default;
};

/// The host's link to one chip (token ids in, logits out).
struct HostLink {
  double bytes_per_cycle = 0;
  std::uint32_t latency_cycles = 0;
  bool operator==(const HostLink&) const = default;
};

/// Energy per operation, in picojoules; `derived` says which figures are
/// derived from published power rather than published themselves.
struct Energy {
  double pj_per_int8_mac = 0;
  double pj_per_sram_byte = 0;
  double pj_per_vector_op = 0;
  double pj_per_c2c_byte = 0;
  /// Power drawn whatever the chip does (leakage, clocks), in watts.
  double static_watts = 0;
  std::string derived;
  bool operator==(const Energy&) const = default;
};

struct Target {
  std::string name;
  std::string description;
  double clock_hz = 0;
  std::vector<Pool> pools;
  /// Bytes one instruction occupies in its pool (program text lives in SRAM).
  std::uint32_t instruction_bytes = 16;
  MatrixUnit matrix;
  VectorUnit vector;
  SwitchUnit switch_unit;
  Links links;
  Topology topology;
  HostLink host;
  Energy energy;
  /// The KV precision a Program gets when none is asked for: "int8" or "f16".
  std::string default_kv = "int8";
  /// Tokens per prefill chunk when none is asked for (fewer when the
  /// chunk's activations would not fit).
  std::uint32_t default_prefill_chunk = 64;

  /// Total SRAM of one chip.
  std::uint64_t sram_bytes() const;
  /// The default group size G: the matrix unit's K tile.
  std::uint32_t default_group() const { return matrix.tile_k; }
  /// Index of the pool named `name`, or -1.
  int pool_index(std::string_view name) const;
  /// Field by field (what a JSON round trip must preserve).
  bool operator==(const Target&) const = default;
};

/// Checks every field (positive sizes, tile_k a multiple of 32, pools
/// named uniquely with at least one pool for each use, ...). `source`
/// names the file or preset in messages: "t.json: pools[1].banks: 0 (expected >= 1)".
Status validate(const Target& t, std::string_view source);

/// Parses and validates a target from JSON text; `source` names it in errors.
Result<Target> target_from_json(std::string_view json, std::string_view source);
/// Reads and parses a JSON target file.
Result<Target> load_target_file(const std::string& path);
/// The JSON form of `t` (target_from_json reads it back to an equal Target).
std::string target_to_json(const Target& t);

/// A built-in preset: "tsp-v1", "hmp-217", "cpu-host" or "tiny".
Result<Target> target_preset(std::string_view name);
/// Preset names in a fixed order, with a one-line description each.
std::vector<std::pair<std::string, std::string>> target_presets();
/// A preset name, or else the path of a JSON file.
Result<Target> resolve_target(const std::string& name_or_path);

/// SHA-256 of the canonical JSON form, as hex: what a Program records.
std::string target_hash(const Target& t);

}  // namespace lpu::target
