#include "runtime/sim/order_checker.h"

#include <algorithm>
#include <sstream>

namespace lpu::sim {
namespace {

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

}  // namespace

OrderChecker::OrderChecker(std::uint32_t chips, std::uint32_t pools, std::uint32_t only)
    : pools_(pools), only_(only), mem_(std::size_t{only == UINT32_MAX ? chips : 1} * pools) {}

void OrderChecker::cover(Cells& cells, std::uint64_t lo, std::uint64_t hi) {
  // Split a cell straddling lo, and one straddling hi.
  for (std::uint64_t cut : {lo, hi}) {
    auto it = cells.upper_bound(cut);
    if (it == cells.begin()) continue;
    --it;
    if (it->first < cut && it->second.hi > cut) {
      Cell right = it->second;
      it->second.hi = cut;
      cells.emplace(cut, right);
    }
  }
  // Fill the gaps inside [lo, hi).
  std::uint64_t at = lo;
  auto it = cells.lower_bound(lo);
  while (at < hi) {
    if (it == cells.end() || it->first > at) {
      const std::uint64_t gap_end = it == cells.end() ? hi : std::min(hi, it->first);
      Cell c;
      c.hi = gap_end;
      it = std::next(cells.emplace_hint(it, at, c));
      at = gap_end;
    } else {
      at = it->second.hi;
      ++it;
    }
  }
}

std::string OrderChecker::check_read(const Cell& c, const AccessTime& t, const std::string& range) {
  if (c.written && c.land > t.first) {
    return "RAW: reads " + range + " from cycle " + std::to_string(t.first) + ", before #" +
           std::to_string(c.w_seq) + " (earlier in program order) lands there at cycle " +
           std::to_string(c.land);
  }
  return {};
}

std::string OrderChecker::check_write(const Cell& c, const AccessTime& t, const std::string& range) {
  if (c.read_end > t.first) {
    return "WAR: writes " + range + " landing at cycle " + std::to_string(t.first) + ", while #" +
           std::to_string(c.r_seq) + " (earlier in program order) reads it until cycle " +
           std::to_string(c.read_end);
  }
  if (c.written && c.land > t.first) {
    return "WAW: writes " + range + " landing at cycle " + std::to_string(t.first) + ", before #" +
           std::to_string(c.w_seq) + " (earlier in program order) lands there at cycle " +
           std::to_string(c.land);
  }
  return {};
}

std::string OrderChecker::read(std::uint32_t chip, std::uint32_t pool, std::uint64_t lo,
                               std::uint64_t hi, const AccessTime& t) {
  if (lo >= hi) return {};
  // Only looks: the cells overlapping [lo, hi), without splitting them
  // (commit_read splits what it records).
  Cells& cells = this->cells(chip, pool);
  auto it = cells.upper_bound(lo);
  if (it != cells.begin() && std::prev(it)->second.hi > lo) --it;
  for (; it != cells.end() && it->first < hi; ++it) {
    const Cell& c = it->second;
    if (c.written && c.land > t.first) {  // the message only when it fails
      return check_read(c, t, "pool " + std::to_string(pool) + " " + hex(it->first) + ".." + hex(c.hi));
    }
  }
  return {};
}

void OrderChecker::commit_read(std::uint32_t chip, std::uint32_t pool, std::uint64_t lo,
                               std::uint64_t hi, const AccessTime& t) {
  if (lo >= hi) return;
  Cells& cells = this->cells(chip, pool);
  cover(cells, lo, hi);
  for (auto it = cells.find(lo); it != cells.end() && it->first < hi; ++it) {
    if (t.end > it->second.read_end) {
      it->second.read_end = t.end;
      it->second.r_seq = t.seq;
    }
  }
}

std::string OrderChecker::write(std::uint32_t chip, std::uint32_t pool, std::uint64_t lo,
                                std::uint64_t hi, const AccessTime& t) {
  if (lo >= hi) return {};
  Cells& cells = this->cells(chip, pool);
  cover(cells, lo, hi);
  for (auto it = cells.find(lo); it != cells.end() && it->first < hi; ++it) {
    const Cell& c = it->second;
    if (c.read_end > t.first || (c.written && c.land > t.first)) {
      return check_write(c, t, "pool " + std::to_string(pool) + " " + hex(it->first) + ".." + hex(c.hi));
    }
    it->second.land = t.first;
    it->second.w_seq = t.seq;
    it->second.written = true;
  }
  return {};
}

std::string OrderChecker::read_key(std::uint64_t key, const AccessTime& t, const char* what) {
  const Cell& c = keys_[key];
  if (c.written && c.land > t.first) return check_read(c, t, what);
  return {};
}

void OrderChecker::commit_read_key(std::uint64_t key, const AccessTime& t) {
  Cell& c = keys_[key];
  if (t.end > c.read_end) {
    c.read_end = t.end;
    c.r_seq = t.seq;
  }
}

std::string OrderChecker::write_key(std::uint64_t key, const AccessTime& t, const char* what) {
  Cell& c = keys_[key];
  if (c.read_end > t.first || (c.written && c.land > t.first)) return check_write(c, t, what);
  c.land = t.first;
  c.w_seq = t.seq;
  c.written = true;
  return {};
}

}  // namespace lpu::sim
