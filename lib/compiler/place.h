#pragma once
// Place: every weight slice, each slot's KV cache, the step buffers and
// the instruction text get a (chip, pool, offset). Hot data goes to the
// pool nearest the unit that reads it: activations near the vector unit,
// weights and the KV cache near the matrix unit. Within a pool, the banks
// are cut into one contiguous range per matrix plane and each plane's
// weights fill its own range upwards (spilling into another's when full),
// so the planes' weight streams read different banks; everything else
// fills the pool from its top downwards. Capacity is checked per chip and pool; entries never
// overlap (lib/program's validate checks both again).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/compiler/partition.h"
#include "lib/program/program.h"

namespace lpu::compiler {

class Placement {
 public:
  Placement(const target::Target& t, std::uint32_t chips);

  /// Allocates `bytes` (64-byte aligned) for `e` on e.chip in the nearest
  /// pool allowing `use`, preferring bank `bank` (-1: from the last bank
  /// down). Fails with what was asked when nothing has room.
  Status place(program::LayoutEntry e, std::uint32_t use, int bank, const std::string& key);

  /// Allocates a region without an entry (for blocks of entries that must
  /// be contiguous); returns its pool and offset via the out parameters.
  Status reserve(std::uint32_t chip, std::uint64_t bytes, std::uint32_t use, int bank,
                 std::uint8_t& pool, std::uint64_t& offset, const std::string& what);
  /// Records an entry inside a reserved region.
  void add_at(program::LayoutEntry e, const std::string& key);

  /// Index of the entry placed under `key` on `chip`, or -1.
  int find(std::uint32_t chip, const std::string& key) const;
  const program::LayoutEntry& entry(int index) const { return entries_[static_cast<std::size_t>(index)]; }
  const std::vector<program::LayoutEntry>& entries() const { return entries_; }
  std::vector<program::LayoutEntry> take_entries() { return std::move(entries_); }

  /// Numbers placement decides for lowering (strides of expert blocks and
  /// of the KV cache's slots), per chip; 0 when unset.
  void set_value(std::uint32_t chip, const std::string& key, std::uint64_t v) { values_[chip][key] = v; }
  std::uint64_t value(std::uint32_t chip, const std::string& key) const {
    const auto it = values_[chip].find(key);
    return it == values_[chip].end() ? 0 : it->second;
  }


 private:
  struct PoolState {
    std::vector<std::uint64_t> begin, cursor, end;  // per plane range: [begin, cursor) used
    std::uint64_t top = 0;                          // [top, capacity) used from above
  };
  bool try_place(std::uint32_t chip, std::uint32_t pool, std::uint64_t bytes, int bank,
                 std::uint64_t& offset);

  const target::Target& t_;
  std::vector<std::vector<PoolState>> pools_;  // [chip][pool]
  std::vector<program::LayoutEntry> entries_;
  std::vector<std::unordered_map<std::string, int>> index_;  // [chip]
  std::vector<std::unordered_map<std::string, std::uint64_t>> values_;  // [chip]
};

/// The index-register plan of MoE layers: one register per (row, rank,
/// plane) holds the chosen expert; register 1 holds the prefill slot
/// (program::kPrefillSlotRegister).
using program::kPrefillSlotRegister;
inline std::uint16_t expert_register(std::uint32_t row, std::uint32_t rank, std::uint32_t plane,
                                     std::uint32_t k, std::uint32_t planes) {
  return static_cast<std::uint16_t>(2 + (row * k + rank) * planes + plane);
}
/// When every expert runs over every row, one register per (row, rank)
/// picks the chosen expert's output block for the combine.
inline std::uint16_t combine_register(std::uint32_t row, std::uint32_t rank, std::uint32_t k,
                                      std::uint32_t max_rows, std::uint32_t planes) {
  return static_cast<std::uint16_t>(2 + max_rows * k * planes + row * k + rank);
}

/// The pool placement puts data of `use` in first: the one allowing it
/// nearest the unit that reads it (vector for activations, matrix else),
/// or -1.
int nearest_pool(const target::Target& t, std::uint32_t use);

/// Places the whole model for a partition: weights of every item on its
/// stage's chips, KV of every layer for every slot, step buffers on every
/// chip. Instruction text is placed after scheduling (place_text).
Result<Placement> place_model(const ModelInput& m, const target::Target& t, const Shapes& s,
                              const Partition& p);

/// Places each chip's instruction text (instruction_bytes per instruction).
Status place_text(Placement& placement, const target::Target& t,
                  const std::vector<std::uint64_t>& instructions_per_chip);

/// Keys of placed data, shared by placement and lowering.
std::string weight_key(const std::string& tensor, std::uint32_t plane);
std::string expert_block_key(const std::string& op, std::uint32_t plane);
std::string kv_key(std::uint32_t slot, std::uint32_t layer, std::uint32_t head, const char* part);
std::string buffer_key(const std::string& buffer);

}  // namespace lpu::compiler
