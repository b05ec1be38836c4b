#pragma once
// The list scheduler: instructions arrive in a dependency-respecting order
// (lowering's) and each is issued at the earliest cycle at which
//  - its sources have landed (RAW: issue + read latency >= producer's landing),
//  - its result lands no earlier than every pending read of the old value
//    (WAR) and every earlier write (WAW),
//  - its unit, the banks its operands touch (read side for sources, write
//    side for the destination) and its link are free.
// Resources keep the end of their last reservation (no backfilling), so
// the result depends on the arrival order alone: the same input gives the
// same cycles. Regions are layout entries, optionally narrowed to a
// sub-range id (a column tile of an output), a matrix plane's buffer slot,
// or an index register.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <unordered_map>
#include <vector>

#include "lib/isa/isa.h"
#include "lib/target/target.h"

namespace lpu::compiler {

/// A region an instruction reads or writes: `id` names the whole region;
/// `sub` >= 0 narrows it to a part that other parts do not overlap.
struct RegionRef {
  std::uint64_t id = 0;
  std::int64_t sub = -1;
  /// A read of parts [sub, sub_end) when sub_end > sub (reads only).
  std::int64_t sub_end = -1;
};

/// Region ids that are not layout entries.
inline std::uint64_t slot_region(std::uint32_t chip, std::uint32_t plane, std::uint32_t slot) {
  return (1ull << 62) | (std::uint64_t{chip} << 24) | (plane << 8) | slot;
}
inline std::uint64_t register_region(std::uint32_t chip, std::uint32_t reg) {
  return (1ull << 61) | (std::uint64_t{chip} << 24) | reg;
}

/// Resource classes for reports.
enum class ResourceClass : std::uint8_t { kMatrix, kWeightLoad, kVector, kSwitch, kLink, kCount };
const char* resource_class_name(ResourceClass c);

class Scheduler {
 public:
  Scheduler(const target::Target& t, std::uint32_t chips);

  /// Issues `in` on `chip` (timing from the machine model) and returns its
  /// issue cycle. `writes` are regions on the destination chip (another
  /// chip for a send).
  std::uint64_t add(std::uint32_t chip, isa::Instruction in, std::initializer_list<RegionRef> reads,
                    std::initializer_list<RegionRef> writes) {
    return add(chip, in, std::span<const RegionRef>(reads.begin(), reads.size()),
               std::span<const RegionRef>(writes.begin(), writes.size()));
  }
  std::uint64_t add(std::uint32_t chip, isa::Instruction in, std::span<const RegionRef> reads,
                    std::span<const RegionRef> writes);

  /// Latest landing of any result so far: the step's static latency.
  std::uint64_t makespan() const { return makespan_; }
  /// Per chip, first issue and last end (0, 0 for an idle chip).
  const std::vector<std::pair<std::uint64_t, std::uint64_t>>& chip_spans() const { return spans_; }

  /// Per op, its first issue and last landing.
  const std::unordered_map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>>& op_spans() const {
    return op_spans_;
  }
  /// Per op and resource class, the busiest chip's busy cycles.
  std::uint64_t op_busy(std::uint32_t op, ResourceClass c) const;
  /// Busy cycles per resource class, summed over chips.
  std::uint64_t total_busy(ResourceClass c) const { return total_busy_[static_cast<int>(c)]; }
  /// Dynamic energy counters.
  std::uint64_t macs() const { return macs_; }
  std::uint64_t sram_bytes() const { return sram_bytes_; }
  std::uint64_t vector_ops() const { return vector_ops_; }
  std::uint64_t link_bytes() const { return link_bytes_; }
  std::uint64_t instruction_count() const { return count_; }

  /// Instructions one variant may hold: past it the variant is refused
  /// (about 2.7 GB of instructions) rather than exhausting the host.
  static constexpr std::uint64_t kMaxInstructions = 24'000'000;
  /// True once a variant exceeded kMaxInstructions (later ones dropped).
  bool overflow() const { return overflow_; }

  /// The streams, each in issue order (ties in arrival order).
  std::vector<std::vector<isa::Instruction>> take_streams();

 private:
  struct Access {
    std::uint64_t land = 0;
    std::uint64_t read_end = 0;
  };
  struct Region {
    Access all;
    Access whole;
    std::unordered_map<std::int64_t, Access> parts;
  };
  std::size_t unit_resource(std::uint32_t chip, const isa::Instruction& in) const;
  void bank_range(std::uint32_t chip, const isa::Operand& o, std::uint32_t& first,
                  std::uint32_t& last) const;
  std::size_t bank_resource(std::uint32_t chip, std::uint32_t pool, std::uint32_t bank, int side) const;
  void account(std::uint32_t chip, const isa::Instruction& in, std::uint64_t land);

  const target::Target& t_;
  std::uint32_t chips_;
  std::uint32_t units_per_chip_;
  std::uint32_t max_banks_;
  std::vector<std::uint64_t> unit_free_;
  std::vector<std::uint64_t> bank_free_;
  std::unordered_map<std::uint64_t, Region> regions_;
  std::vector<std::vector<isa::Instruction>> streams_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans_;
  std::unordered_map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>> op_spans_;
  std::unordered_map<std::uint64_t, std::uint64_t> op_busy_;  // (op, class, chip) -> cycles
  std::unordered_map<std::uint64_t, std::uint64_t> op_busy_max_;  // (op, class) -> max over chips
  std::uint64_t total_busy_[static_cast<int>(ResourceClass::kCount)] = {};
  std::uint64_t makespan_ = 0;
  bool overflow_ = false;
  std::uint64_t macs_ = 0, sram_bytes_ = 0, vector_ops_ = 0, link_bytes_ = 0, count_ = 0;

 public:
  /// Index registers: (chip, reg) -> (stride, count), for the banks an
  /// indexed operand may touch.
  std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>> registers;
};

}  // namespace lpu::compiler
