#include "lib/compiler/place.h"

#include <algorithm>
#include <set>

#include "lib/graph/graph.h"
#include "lib/isa/tiled_layout.h"

namespace lpu::compiler {
namespace {

constexpr std::uint64_t kAlign = 64;
std::uint64_t align_up(std::uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// Pools allowing `use`, nearest first to the unit kind that reads them.
std::vector<std::uint32_t> pools_for(const target::Target& t, std::uint32_t use) {
  const int unit = use == target::kUseActivations ? static_cast<int>(target::UnitKind::kVector)
                                                   : static_cast<int>(target::UnitKind::kMatrix);
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < t.pools.size(); ++i) {
    if (t.pools[i].uses & use) out.push_back(i);
  }
  std::stable_sort(out.begin(), out.end(), [&](std::uint32_t a, std::uint32_t b) {
    return t.pools[a].latency[unit] < t.pools[b].latency[unit];
  });
  return out;
}

}  // namespace

int nearest_pool(const target::Target& t, std::uint32_t use) {
  const std::vector<std::uint32_t> pools = pools_for(t, use);
  return pools.empty() ? -1 : static_cast<int>(pools.front());
}

std::string weight_key(const std::string& tensor, std::uint32_t plane) {
  return "w:" + tensor + ":" + std::to_string(plane);
}
std::string expert_block_key(const std::string& op, std::uint32_t plane) {
  return "xb:" + op + ":" + std::to_string(plane);
}
std::string kv_key(std::uint32_t slot, std::uint32_t layer, std::uint32_t head, const char* part) {
  return "kv:" + std::to_string(slot) + ":" + std::to_string(layer) + ":" + std::to_string(head) +
         ":" + part;
}
std::string buffer_key(const std::string& buffer) { return "a:" + buffer; }

Placement::Placement(const target::Target& t, std::uint32_t chips) : t_(t) {
  pools_.resize(chips);
  index_.resize(chips);
  values_.resize(chips);
  for (auto& chip : pools_) {
    chip.resize(t.pools.size());
    for (std::size_t p = 0; p < t.pools.size(); ++p) {
      const target::Pool& tp = t.pools[p];
      // Equal byte ranges, one per plane (planes hold equal shares of every
      // matrix); a range may end inside a bank the next range starts in.
      const std::uint32_t groups = std::max(1u, std::min(t.matrix.planes, tp.banks));
      for (std::uint32_t g = 0; g < groups; ++g) {
        const std::uint64_t b0 = tp.capacity_bytes * g / groups / kAlign * kAlign;
        const std::uint64_t b1 = tp.capacity_bytes * (g + 1) / groups / kAlign * kAlign;
        chip[p].begin.push_back(b0);
        chip[p].cursor.push_back(b0);
        chip[p].end.push_back(g + 1 == groups ? tp.capacity_bytes : b1);
      }
      chip[p].top = tp.capacity_bytes;
    }
  }
}

bool Placement::try_place(std::uint32_t chip, std::uint32_t pool, std::uint64_t bytes, int bank,
                          std::uint64_t& offset) {
  PoolState& ps = pools_[chip][pool];
  const std::size_t groups = ps.begin.size();
  if (bank < 0) {
    // From the top down, clear of every plane range's used part.
    if (bytes > ps.top) return false;
    const std::uint64_t start = (ps.top - bytes) / kAlign * kAlign;
    for (std::size_t g = 0; g < groups; ++g) {
      if (ps.cursor[g] > ps.begin[g] && start < ps.cursor[g]) return false;
    }
    ps.top = start;
    offset = start;
    return true;
  }
  for (std::size_t i = 0; i < groups; ++i) {
    const std::size_t g = (static_cast<std::size_t>(bank) + i) % groups;
    const std::uint64_t start = align_up(ps.cursor[g]);
    if (start + bytes <= std::min(ps.end[g], ps.top)) {
      ps.cursor[g] = start + bytes;
      offset = start;
      return true;
    }
  }
  // No plane's range has room (the cache and buffers took the top of the
  // last one): take it from the top like everything else.
  return try_place(chip, pool, bytes, -1, offset);
}

Status Placement::place(program::LayoutEntry e, std::uint32_t use, int bank, const std::string& key) {
  for (std::uint32_t pool : pools_for(t_, use)) {
    std::uint64_t offset = 0;
    if (!try_place(e.chip, pool, e.bytes, bank, offset)) continue;
    e.pool = static_cast<std::uint8_t>(pool);
    e.offset = offset;
    index_[e.chip][key] = static_cast<int>(entries_.size());
    entries_.push_back(std::move(e));
    return {};
  }
  return resource_exhausted("chip " + std::to_string(e.chip) + ": no pool has room for '" + e.name +
                            "' (" + std::to_string(e.bytes) + " bytes)");
}

Status Placement::reserve(std::uint32_t chip, std::uint64_t bytes, std::uint32_t use, int bank,
                          std::uint8_t& pool, std::uint64_t& offset, const std::string& what) {
  for (std::uint32_t p : pools_for(t_, use)) {
    if (!try_place(chip, p, bytes, bank, offset)) continue;
    pool = static_cast<std::uint8_t>(p);
    return {};
  }
  return resource_exhausted("chip " + std::to_string(chip) + ": no pool has room for '" + what +
                            "' (" + std::to_string(bytes) + " bytes)");
}

void Placement::add_at(program::LayoutEntry e, const std::string& key) {
  index_[e.chip][key] = static_cast<int>(entries_.size());
  entries_.push_back(std::move(e));
}

int Placement::find(std::uint32_t chip, const std::string& key) const {
  if (chip >= index_.size()) return -1;
  const auto it = index_[chip].find(key);
  return it == index_[chip].end() ? -1 : it->second;
}

Status place_text(Placement& placement, const target::Target& t,
                  const std::vector<std::uint64_t>& instructions_per_chip) {
  for (std::uint32_t c = 0; c < instructions_per_chip.size(); ++c) {
    program::LayoutEntry e;
    e.name = "text";
    e.chip = c;
    e.encoding = program::Encoding::kText;
    e.kind = program::DataKind::kInstructions;
    e.bytes = std::max<std::uint64_t>(1, instructions_per_chip[c]) * t.instruction_bytes;
    LPU_TRY(placement.place(std::move(e), target::kUseInstructions, -1, "text"),
            "instruction text");
  }
  return {};
}

}  // namespace lpu::compiler
