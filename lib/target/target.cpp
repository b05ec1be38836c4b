// Target queries, validation, hashing and name resolution. The JSON form is
// in target_json.cpp, the built-in presets in presets.cpp.
#include "lib/target/target.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <type_traits>

#include "lib/core/sha256.h"

namespace lpu::target {
namespace {

// Limits that keep every product the compiler and simulator form from a
// validated target inside 64 bits: 250 pools of at most 2^48 bytes sum to
// under 2^56, and a system has at most 2^20 chips.
constexpr std::uint64_t kMaxPoolBytes = std::uint64_t{1} << 48;
constexpr std::uint64_t kMaxChips = std::uint64_t{1} << 20;
constexpr std::uint32_t kMaxTileK = 65536;
constexpr std::uint32_t kMaxTileN = 65536;

constexpr const char* kUseNames[] = {"activations", "kv", "weights", "instructions"};
constexpr std::uint32_t kAllUses = kUseActivations | kUseKv | kUseWeights | kUseInstructions;

// Integers in decimal, doubles in their shortest round-trip form.
template <typename T>
std::string number(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  } else {
    return std::to_string(v);
  }
}

// "SOURCE: FIELD: VALUE (expected EXPECTED)", the one shape of every
// validation message.
Status bad(std::string_view source, std::string_view field, std::string_view value,
           std::string_view expected) {
  std::string m(source);
  m.append(": ").append(field).append(": ").append(value);
  m.append(" (expected ").append(expected).append(")");
  return invalid_argument(std::move(m));
}

// Collects the first failure of a sequence of checks, so each validator
// reads as a list of rules.
class Checker {
 public:
  explicit Checker(std::string_view source) : source_(source) {}

  void at_least(std::string_view field, std::uint64_t v, std::uint64_t min) {
    if (v < min) fail(field, number(v), ">= " + number(min));
  }
  void check(bool ok, std::string_view field, std::string_view value, std::string_view expected) {
    if (!ok) fail(field, value, expected);
  }
  // Finite and > 0 (or >= 0 when `allow_zero`); NaN fails both.
  void positive(std::string_view field, double v, bool allow_zero = false) {
    const bool ok = std::isfinite(v) && (allow_zero ? v >= 0 : v > 0);
    if (!ok) fail(field, number(v), allow_zero ? "a finite number >= 0" : "a finite number > 0");
  }
  void fail(std::string_view field, std::string_view value, std::string_view expected) {
    if (status_.ok()) status_ = bad(source_, field, value, expected);
  }
  Status status() const { return status_; }

 private:
  std::string_view source_;
  Status status_;
};

std::string single_quoted(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q.append(1, '\'').append(s).append(1, '\'');
  return q;
}

void check_pool(Checker& c, const Target& t, std::size_t i) {
  const Pool& p = t.pools[i];
  const std::string f = "pools[" + std::to_string(i) + "].";
  c.check(!p.name.empty(), f + "name", "''", "a non-empty name");
  for (std::size_t j = 0; j < i; ++j) {
    if (t.pools[j].name != p.name) continue;
    c.fail(f + "name", single_quoted(p.name),
           "a unique name; pools[" + std::to_string(j) + "] has it");
  }
  c.at_least(f + "capacity_bytes", p.capacity_bytes, 1);
  c.check(p.capacity_bytes <= kMaxPoolBytes, f + "capacity_bytes", number(p.capacity_bytes),
          "at most 2^48 = " + number(kMaxPoolBytes));
  c.at_least(f + "banks", p.banks, 1);
  c.check(p.banks == 0 || p.capacity_bytes % p.banks == 0, f + "banks", number(p.banks),
          "a divisor of capacity_bytes " + number(p.capacity_bytes));
  c.at_least(f + "bank_read_bytes_per_cycle", p.bank_read_bytes_per_cycle, 1);
  c.at_least(f + "bank_write_bytes_per_cycle", p.bank_write_bytes_per_cycle, 1);
  if ((p.uses & ~kAllUses) != 0) {
    char bits[16];
    std::snprintf(bits, sizeof bits, "0x%x", p.uses);
    c.fail(f + "uses", bits, "a set of activations, kv, weights, instructions");
  }
  c.check(p.uses != 0, f + "uses", "none",
          "at least one of activations, kv, weights, instructions");
}

void check_pools(Checker& c, const Target& t) {
  c.check(!t.pools.empty(), "pools", "none", "at least one pool");
  c.check(t.pools.size() <= kMaxPools, "pools", number(t.pools.size()) + " pools",
          "at most " + number(kMaxPools));
  for (std::size_t i = 0; i < t.pools.size() && i < kMaxPools; ++i) check_pool(c, t, i);
  for (int bit = 0; bit < 4; ++bit) {
    bool found = false;
    for (const Pool& p : t.pools) found = found || (p.uses & (1u << bit)) != 0;
    c.check(found, "pools", std::string("no pool for ") + kUseNames[bit],
            "a pool for each use: activations, kv, weights, instructions");
  }
}

void check_units(Checker& c, const Target& t) {
  const MatrixUnit& m = t.matrix;
  c.at_least("matrix.planes", m.planes, 1);
  c.check(m.tile_k % 32 == 0 && m.tile_k >= 32 && m.tile_k <= kMaxTileK, "matrix.tile_k",
          number(m.tile_k), "a multiple of 32 in [32, 65536]");
  c.check(m.tile_n % 16 == 0 && m.tile_n >= 16 && m.tile_n <= kMaxTileN, "matrix.tile_n",
          number(m.tile_n), "a multiple of 16 in [16, 65536]");
  c.at_least("matrix.weight_buffer_tiles", m.weight_buffer_tiles, 1);
  c.at_least("matrix.weight_load_bytes_per_cycle", m.weight_load_bytes_per_cycle, 1);
  c.at_least("matrix.macs_per_cycle", m.macs_per_cycle, 1);
  c.at_least("vector.lanes", t.vector.lanes, 1);
  c.at_least("vector.alus_per_lane", t.vector.alus_per_lane, 1);
  c.at_least("switch.bytes_per_cycle", t.switch_unit.bytes_per_cycle, 1);
}

void check_topology(Checker& c, const Topology& tp, const Links& l) {
  c.at_least("topology.chips_per_node", tp.chips_per_node, 1);
  c.at_least("topology.nodes_per_rack", tp.nodes_per_rack, 1);
  c.at_least("topology.max_racks", tp.max_racks, 1);
  // Each factor is below 2^32, so the product of the first two cannot wrap.
  const std::uint64_t per_rack = std::uint64_t{tp.chips_per_node} * tp.nodes_per_rack;
  c.check(per_rack <= kMaxChips && per_rack * tp.max_racks <= kMaxChips, "topology",
          number(per_rack) + " chips per rack x " + number(tp.max_racks) + " racks",
          "at most 2^20 = " + number(kMaxChips) + " chips");
  c.check(tp.rack_network == "none" || tp.rack_network == "dragonfly", "topology.rack_network",
          single_quoted(tp.rack_network), "none or dragonfly");
  c.check(tp.rack_network != "none" || tp.max_racks <= 1, "topology.max_racks",
          number(tp.max_racks), "1 when rack_network is 'none'");
  if (tp.chips_per_node > 1) {
    c.check(
        tp.local_links >= tp.chips_per_node - 1, "topology.local_links", number(tp.local_links),
        ">= chips_per_node - 1 = " + number(tp.chips_per_node - 1) + ": a node is fully connected");
  }
  c.check(tp.local_links <= l.count, "topology.local_links", number(tp.local_links),
          "<= links.count " + number(l.count));
  c.check(std::uint64_t{tp.local_links} + tp.global_links <= l.count, "topology.global_links",
          number(tp.global_links),
          "<= links.count - local_links = " + number(l.count - std::min(l.count, tp.local_links)));
  c.check(tp.global_links > 0 || (tp.nodes_per_rack <= 1 && tp.max_racks <= 1),
          "topology.global_links", "0", ">= 1 when the topology has several nodes");
}

void check_links(Checker& c, const Target& t) {
  const Links& l = t.links;
  const Topology& tp = t.topology;
  // max_chips() may wrap on an unchecked topology; only a single chip may
  // go without links.
  const bool one_chip = tp.chips_per_node <= 1 && tp.nodes_per_rack <= 1 && tp.max_racks <= 1;
  c.check(l.count > 0 || one_chip, "links.count", "0", ">= 1 when the topology has several chips");
  if (l.count > 0) c.positive("links.bytes_per_cycle", l.bytes_per_cycle);
  c.positive("links.hop_latency_sigma_cycles", l.hop_latency_sigma_cycles, true);
  c.check(l.resync_period_cycles == 0 || l.resync_cycles < l.resync_period_cycles,
          "links.resync_cycles", number(l.resync_cycles),
          "< resync_period_cycles " + number(l.resync_period_cycles));
  check_topology(c, tp, l);
}

void check_misc(Checker& c, const Target& t) {
  c.positive("host.bytes_per_cycle", t.host.bytes_per_cycle);
  const Energy& e = t.energy;
  c.positive("energy.pj_per_int8_mac", e.pj_per_int8_mac, true);
  c.positive("energy.pj_per_sram_byte", e.pj_per_sram_byte, true);
  c.positive("energy.pj_per_vector_op", e.pj_per_vector_op, true);
  c.positive("energy.pj_per_c2c_byte", e.pj_per_c2c_byte, true);
  c.positive("energy.static_watts", e.static_watts, true);
  c.check(t.default_kv == "int8" || t.default_kv == "f16", "default_kv",
          single_quoted(t.default_kv), "int8 or f16");
  c.check(t.default_prefill_chunk >= 1 && t.default_prefill_chunk <= 65536, "default_prefill_chunk",
          std::to_string(t.default_prefill_chunk), "1..65536");
}

}  // namespace

std::string pool_uses_string(std::uint32_t uses) {
  std::string s;
  for (int bit = 0; bit < 4; ++bit) {
    if ((uses & (1u << bit)) == 0) continue;
    if (!s.empty()) s += '+';
    s += kUseNames[bit];
  }
  return s.empty() ? "none" : s;
}

std::uint64_t Target::sram_bytes() const {
  std::uint64_t total = 0;
  for (const Pool& p : pools) total += p.capacity_bytes;
  return total;
}

int Target::pool_index(std::string_view pool_name) const {
  for (std::size_t i = 0; i < pools.size(); ++i) {
    if (pools[i].name == pool_name) return static_cast<int>(i);
  }
  return -1;
}

Status validate(const Target& t, std::string_view source) {
  Checker c(source);
  c.check(!t.name.empty(), "name", "''", "a non-empty name");
  c.positive("clock_hz", t.clock_hz);
  check_pools(c, t);
  c.at_least("instruction_bytes", t.instruction_bytes, 1);
  check_units(c, t);
  check_links(c, t);
  check_misc(c, t);
  return c.status();
}

std::string target_hash(const Target& t) {
  Sha256 h;
  h.update(target_to_json(t));
  return h.hex_digest();
}

Result<Target> resolve_target(const std::string& name_or_path) {
  Result<Target> preset = target_preset(name_or_path);
  if (preset.ok()) return preset;
  std::error_code ec;
  if (std::filesystem::exists(name_or_path, ec)) return load_target_file(name_or_path);
  std::string names;
  for (const auto& [name, description] : target_presets()) {
    names += names.empty() ? name : ", " + name;
  }
  return not_found("target '" + name_or_path + "': neither a preset (" + names +
                   ") nor an existing file");
}

}  // namespace lpu::target
