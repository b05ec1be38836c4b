#include "runtime/sim/simulator.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "lib/target/target.h"
#include "runtime/sim/machine_timing.h"
#include "runtime/sim/order_checker.h"

namespace lpu::sim {
namespace {

using isa::Instruction;
using isa::Opcode;
using isa::Unit;

struct Timed {
  std::uint64_t read = 0;      // first read cycle
  std::uint64_t read_end = 0;  // first cycle after the read window
  std::uint64_t land = 0;      // result lands
};

// One chip's share of the report, merged after the parallel pass.
struct ChipTally {
  std::array<std::uint64_t, isa::kUnitCount> busy{};
  std::vector<std::uint64_t> pool_read, pool_write;
  std::uint64_t link_bytes = 0, macs = 0, vector_ops = 0, last_land = 0;
  // Per op: busy cycles per unit kind on this chip, and its first issue
  // and last landing here (op_span.first > second while it has none).
  std::vector<std::uint64_t> op_busy;  // op * kUnitCount + unit
  std::vector<std::pair<std::uint64_t, std::uint64_t>> op_span;
  Status error;
};

std::uint64_t slot_key(std::uint32_t chip, std::uint32_t plane, std::uint32_t slot) {
  return (1ull << 62) | (std::uint64_t{chip} << 24) | (std::uint64_t{plane} << 8) | slot;
}
std::uint64_t reg_key(std::uint32_t chip, std::uint16_t reg) {
  return (1ull << 61) | register_key(chip, reg);
}

std::uint32_t chips_of(const program::Variant& v) { return static_cast<std::uint32_t>(v.streams.size()); }

const char* unit_kind_name(int u) {
  return std::string_view(isa::unit_name(static_cast<Unit>(u))).data();
}

// Timing, bounds and resource checks of one chip's stream, in issue order.
void check_chip(const program::Program& p, const target::Target& t, const RegisterTable& regs,
                const program::Variant& v, std::uint32_t chip, std::vector<Timed>& timed,
                ChipTally& tally) {
  const auto& stream = v.streams[chip];
  timed.resize(stream.size());
  tally.op_busy.assign(p.ops.size() * isa::kUnitCount, 0);
  tally.op_span.assign(p.ops.size(), {UINT64_MAX, 0});
  tally.pool_read.assign(t.pools.size(), 0);
  tally.pool_write.assign(t.pools.size(), 0);
  // Free-at cycles: units (kind, index), bank sides (pool, bank, side).
  std::vector<std::uint64_t> unit_free(std::size_t{isa::kUnitCount} * 256, 0);
  std::vector<std::vector<std::uint64_t>> bank_free(t.pools.size() * 2);
  for (std::size_t q = 0; q < t.pools.size(); ++q) {
    bank_free[2 * q].assign(t.pools[q].banks, 0);
    bank_free[2 * q + 1].assign(t.pools[q].banks, 0);
  }
  std::vector<std::uint64_t*> held;
  for (std::uint32_t i = 0; i < stream.size(); ++i) {
    const Instruction& in = stream[i];
    const InstrRef ref{chip, i};
    auto fail = [&](const std::string& what) { tally.error = sim_error(ref, in, what); };
    const InstrTiming tm = timing_of(t, in, chip);
    if (tm.duration != in.duration) {
      return fail("duration " + std::to_string(in.duration) + " recorded, but the machine model gives " +
                  std::to_string(tm.duration) + " (Program refused)");
    }
    if (in.op == Opcode::kSend && (in.p[0] >= p.meta.chips || in.p[0] == chip)) {
      return fail("sends to chip " + std::to_string(in.p[0]) + " (expected another of the " +
                  std::to_string(p.meta.chips) + " chips)");
    }
    for (int k = 0; k < 4; ++k) {
      const isa::Operand& o = k < 3 ? in.src[static_cast<std::size_t>(k)] : in.dst;
      if (!o.present()) continue;
      const std::uint32_t oc = k == 3 && in.op == Opcode::kSend ? in.p[0] : chip;
      if (o.pool >= t.pools.size()) return fail("operand in pool " + std::to_string(o.pool) + " (no such pool)");
      const std::uint64_t reach = o.end() + regs.reach(oc, o.index_reg);
      if (reach > t.pools[o.pool].capacity_bytes) {
        return fail("operand [" + std::to_string(o.offset) + ", " + std::to_string(reach) + ") outside pool " +
                    t.pools[o.pool].name + " (" + std::to_string(t.pools[o.pool].capacity_bytes) + " bytes)");
      }
      if (o.index_reg != 0 && regs.find(oc, o.index_reg) == nullptr) {
        return fail("operand indexed by r" + std::to_string(o.index_reg) + ", which the Program does not define");
      }
    }
    if (in.unit != Unit::kSync) {
      if (in.unit == Unit::kLink && in.unit_index >= t.links.count) {
        return fail("link " + std::to_string(in.unit_index) + " (the chip has " + std::to_string(t.links.count) + ")");
      }
      if ((in.unit == Unit::kMatrix || in.unit == Unit::kWeightLoad) && in.unit_index >= t.matrix.planes) {
        return fail("plane " + std::to_string(in.unit_index) + " (the chip has " + std::to_string(t.matrix.planes) + ")");
      }
      std::uint64_t& free = unit_free[static_cast<std::size_t>(in.unit) * 256 + in.unit_index];
      if (free > in.issue_cycle) {
        return fail(std::string(in.unit == Unit::kLink ? "link" : "unit") + " " +
                    std::string(isa::unit_name(in.unit)) + "." + std::to_string(in.unit_index) +
                    " double-booked: busy until cycle " + std::to_string(free));
      }
      free = in.issue_cycle + tm.duration;
    }
    if (tm.bank_hold > 0) {
      // Check every operand's banks first: two operands of one instruction
      // may share a bank side (it streams both).
      held.clear();
      for (int k = 0; k < 4; ++k) {
        const isa::Operand& o = k < 3 ? in.src[static_cast<std::size_t>(k)] : in.dst;
        if (!o.present() || (k == 3 && in.op == Opcode::kSend)) continue;
        if (k == 3 && in.op == Opcode::kMatmul && !(in.flags & isa::kStore)) continue;
        const target::Pool& pool = t.pools[o.pool];
        const std::uint64_t bank_bytes = pool.bank_bytes();
        const std::uint64_t hi = o.end() + regs.reach(chip, o.index_reg);
        auto& side = bank_free[2 * o.pool + (k == 3 ? 1 : 0)];
        for (std::uint64_t b = o.offset / bank_bytes; b <= (hi - 1) / bank_bytes && b < side.size(); ++b) {
          if (side[b] > in.issue_cycle) {
            return fail(std::string(k == 3 ? "write" : "read") + " port of bank " + std::to_string(b) +
                        " of pool " + pool.name + " double-booked: busy until cycle " + std::to_string(side[b]));
          }
          held.push_back(&side[b]);
        }
      }
      for (std::uint64_t* b : held) *b = in.issue_cycle + tm.bank_hold;
    }
    Timed& tt = timed[i];
    tt.read = in.issue_cycle + tm.read_latency;
    tt.read_end = tt.read + tm.duration;
    tt.land = in.issue_cycle + tm.duration + tm.write_latency;
    if (tt.land < tt.read_end && in.unit != Unit::kSync) {
      return fail("the machine model lands its result at cycle " + std::to_string(tt.land) +
                  ", before its sources are read (until " + std::to_string(tt.read_end) + ")");
    }
    tally.last_land = std::max({tally.last_land, tt.land, in.end_cycle()});
    // Tallies.
    if (in.unit != Unit::kSync) {
      tally.busy[static_cast<std::size_t>(in.unit)] += tm.duration;
      tally.op_busy[std::size_t{in.op_id} * isa::kUnitCount + static_cast<std::size_t>(in.unit)] += tm.duration;
    }
    auto& span = tally.op_span[in.op_id];
    span.first = std::min(span.first, in.issue_cycle);
    span.second = std::max(span.second, tt.land);
    for (int k = 0; k < 3; ++k) {
      if (in.src[static_cast<std::size_t>(k)].present()) tally.pool_read[in.src[static_cast<std::size_t>(k)].pool] += streamed_bytes(in, k);
    }
    if (in.dst.present() && in.op != Opcode::kSend) tally.pool_write[in.dst.pool] += streamed_bytes(in, 3);
    if (in.op == Opcode::kMatmul) tally.macs += std::uint64_t{in.p[0]} * in.p[2] * in.p[3];
    if (in.op == Opcode::kSend) tally.link_bytes += std::uint64_t{in.p[1]} * in.p[2];
    tally.vector_ops += vector_element_ops(in);
  }
}


// The program-order checks of chip c: its own instructions and the sends
// landing on it, in seq order. Returns (seq, error) of the first fault, or
// (UINT32_MAX, ok).
std::pair<std::uint32_t, Status> check_order_chip(const program::Variant& v, std::uint32_t c,
                                                  const std::vector<std::vector<Timed>>& timed,
                                                  std::vector<InstrRef>& incoming, const RegisterTable& regs,
                                                  const target::Target& t) {
  const auto& stream = v.streams[c];
  std::vector<std::uint32_t> own(stream.size());
  for (std::uint32_t i = 0; i < own.size(); ++i) own[i] = i;
  std::sort(own.begin(), own.end(), [&](std::uint32_t a, std::uint32_t b) { return stream[a].seq < stream[b].seq; });
  std::sort(incoming.begin(), incoming.end(), [&](const InstrRef& a, const InstrRef& b) {
    return v.streams[a.chip][a.index].seq < v.streams[b.chip][b.index].seq;
  });
  OrderChecker order(chips_of(v), static_cast<std::uint32_t>(t.pools.size()), c);
  std::vector<MemRange> ranges;
  std::vector<std::uint64_t> keys;
  // Bytes this step writes on the chip, per pool, merged: a read of bytes
  // nothing writes (weights) can meet no hazard and is not tracked.
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> written(t.pools.size());
  auto collect = [&](const InstrRef& ref) {
    ranges.clear();
    memory_ranges(v.streams[ref.chip][ref.index], ref.chip, regs, ranges);
    for (const MemRange& r : ranges) {
      if (r.write && r.chip == c && r.pool < written.size()) written[r.pool].emplace_back(r.lo, r.hi);
    }
  };
  for (std::uint32_t i = 0; i < stream.size(); ++i) collect({c, i});
  for (const InstrRef& ref : incoming) collect(ref);
  for (auto& w : written) {
    std::sort(w.begin(), w.end());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> merged;
    for (const auto& r : w) {
      if (!merged.empty() && r.first <= merged.back().second) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    w = std::move(merged);
  }
  auto ever_written = [&](const MemRange& r) {
    if (r.pool >= written.size()) return true;
    const auto& w = written[r.pool];
    auto it = std::upper_bound(w.begin(), w.end(), std::make_pair(r.lo, UINT64_MAX));
    if (it != w.begin() && std::prev(it)->second > r.lo) return true;
    return it != w.end() && it->first < r.hi;
  };
  std::size_t oi = 0, ii = 0;
  while (oi < own.size() || ii < incoming.size()) {
    const bool take_own = ii == incoming.size() ||
                          (oi < own.size() && stream[own[oi]].seq < v.streams[incoming[ii].chip][incoming[ii].index].seq);
    const InstrRef ref = take_own ? InstrRef{c, own[oi++]} : incoming[ii++];
    const Instruction& in = v.streams[ref.chip][ref.index];
    const Timed& tt = timed[ref.chip][ref.index];
    const AccessTime rd{tt.read, tt.read_end, in.seq};
    const AccessTime wr{tt.land, tt.land, in.seq};
    ranges.clear();
    memory_ranges(in, ref.chip, regs, ranges);
    keys.clear();
    if (take_own) {
      for (int k = 0; k < 3; ++k) {
        const isa::Operand& o = in.src[static_cast<std::size_t>(k)];
        if (o.present() && o.index_reg != 0) keys.push_back(reg_key(c, o.index_reg));
      }
      if (in.op != Opcode::kSend && in.dst.present() && in.dst.index_reg != 0) keys.push_back(reg_key(c, in.dst.index_reg));
      if (in.op == Opcode::kMatmul) keys.push_back(slot_key(c, in.unit_index, in.p[1]));
    } else if (in.dst.present() && in.dst.index_reg != 0) {
      keys.push_back(reg_key(c, in.dst.index_reg));
    }
    std::string err;
    for (const MemRange& r : ranges) {
      if (r.chip == c && !r.write && take_own && err.empty() && ever_written(r)) {
        err = order.read(r.chip, r.pool, r.lo, r.hi, rd);
      }
    }
    for (std::uint64_t key : keys) {
      if (err.empty()) err = order.read_key(key, rd, (key >> 62) ? "a weight-buffer slot" : "an index register");
    }
    for (const MemRange& r : ranges) {
      if (r.chip == c && r.write && err.empty()) err = order.write(r.chip, r.pool, r.lo, r.hi, wr);
    }
    if (take_own && err.empty() && in.op == Opcode::kLoadWeights) {
      err = order.write_key(slot_key(c, in.unit_index, in.p[0]), wr, "a weight-buffer slot");
    }
    if (take_own && err.empty() && in.op == Opcode::kSelectExperts) {
      const RegisterRuns runs = select_experts_registers(in);
      for (std::uint32_t r = 0; r < runs.expert_count && err.empty(); ++r) {
        err = order.write_key(reg_key(c, static_cast<std::uint16_t>(runs.expert_first + r)), wr, "an index register");
      }
      for (std::uint32_t r = 0; r < runs.combine_count && err.empty(); ++r) {
        err = order.write_key(reg_key(c, static_cast<std::uint16_t>(runs.combine_first + r)), wr, "an index register");
      }
    }
    if (!err.empty()) return {in.seq, sim_error(ref, in, err)};
    for (const MemRange& r : ranges) {
      if (r.chip == c && !r.write && take_own && ever_written(r)) order.commit_read(r.chip, r.pool, r.lo, r.hi, rd);
    }
    for (std::uint64_t key : keys) order.commit_read_key(key, rd);
  }
  return {UINT32_MAX, Status{}};
}

}  // namespace

Simulator::Simulator(const program::Program& p, const target::Target& t, StepModel model)
    : p_(p), t_(t), model_(std::move(model)), regs_(p) {}

Result<std::unique_ptr<Simulator>> Simulator::create(const program::Program& p,
                                                     const target::Target& t, StepModel model) {
  if (target::target_hash(t) != p.meta.target_hash) {
    return failed_precondition("the Program was compiled for target '" + p.meta.target_name + "' (hash " +
                               p.meta.target_hash + "), not '" + t.name + "' (hash " +
                               target::target_hash(t) + ")");
  }
  std::vector<std::uint64_t> caps;
  for (const target::Pool& pool : t.pools) caps.push_back(pool.capacity_bytes);
  LPU_TRY(program::validate(p, caps, "program"), "loading the Program into the simulator");
  return std::unique_ptr<Simulator>(new Simulator(p, t, std::move(model)));
}

void Simulator::set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value) {
  if (!exec_) exec_ = std::make_unique<Executor>(p_, t_, model_, images_, regs_);
  exec_->set_register(chip, reg, value);
}

Result<StepReport> Simulator::run(const std::string& name, const SimOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const program::Variant* v = p_.find_variant(name);
  if (v == nullptr) return not_found("the Program has no variant '" + name + "'");
  const std::uint32_t chips = p_.meta.chips;
  std::vector<std::vector<Timed>> timed(chips);
  std::vector<ChipTally> tally(chips);
  tbb::parallel_for(std::uint32_t{0}, chips, [&](std::uint32_t c) {
    check_chip(p_, t_, regs_, *v, c, timed[c], tally[c]);
  });
  for (const ChipTally& ct : tally) LPU_TRY(ct.error, "variant " + name);

  std::size_t total = 0;
  for (const auto& s : v->streams) total += s.size();
  // A chip's memory, slots and registers change only through its own
  // instructions and the sends that land on it, so each chip is checked
  // on its own, in program order, concurrently with the others.
  std::vector<std::vector<InstrRef>> incoming(chips);
  for (std::uint32_t c = 0; c < chips; ++c) {
    for (std::uint32_t i = 0; i < v->streams[c].size(); ++i) {
      const Instruction& in = v->streams[c][i];
      if (in.op == Opcode::kSend && in.p[0] < chips) incoming[in.p[0]].push_back({c, i});
    }
  }
  std::vector<std::pair<std::uint32_t, Status>> order_error(chips, {UINT32_MAX, Status{}});
  tbb::parallel_for(std::uint32_t{0}, chips, [&](std::uint32_t c) {
    order_error[c] = check_order_chip(*v, c, timed, incoming[c], regs_, t_);
  });
  std::uint32_t first = 0;
  for (std::uint32_t c = 1; c < chips; ++c) {
    if (order_error[c].first < order_error[first].first) first = c;
  }
  if (chips > 0 && order_error[first].first != UINT32_MAX) return order_error[first].second.with_context("variant " + name);

  if (!options.timing_only) {
    if (images_.size() != chips) return failed_precondition("functional simulation needs the chips' SRAM images");
    if (!exec_) exec_ = std::make_unique<Executor>(p_, t_, model_, images_, regs_);
    std::vector<InstrRef> by_seq(total);
    for (std::uint32_t c = 0; c < chips; ++c) {
      for (std::uint32_t i = 0; i < v->streams[c].size(); ++i) by_seq[v->streams[c][i].seq] = {c, i};
    }
    struct Event {
      std::uint64_t time;
      std::uint32_t kind;  // 0: a result lands, 1: sources are read
      std::uint32_t seq;
    };
    std::vector<Event> events;
    events.reserve(2 * total);
    for (std::size_t s = 0; s < total; ++s) {
      const Timed& tt = timed[by_seq[s].chip][by_seq[s].index];
      events.push_back({tt.read, 1, static_cast<std::uint32_t>(s)});
      events.push_back({std::max(tt.land, tt.read), 0, static_cast<std::uint32_t>(s)});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.kind != b.kind) return a.kind < b.kind;
      return a.seq < b.seq;
    });
    std::vector<Effects> fx(total);
    std::vector<std::uint64_t> plane_last(std::size_t{chips} * t_.matrix.planes, 0);
    for (const Event& e : events) {
      const InstrRef ref = by_seq[e.seq];
      const Instruction& in = v->streams[ref.chip][ref.index];
      if (e.kind == 0) {
        exec_->land(fx[e.seq]);
        fx[e.seq] = Effects{};
        continue;
      }
      if (in.op == Opcode::kMatmul) {
        std::uint64_t& last = plane_last[std::size_t{ref.chip} * t_.matrix.planes + in.unit_index];
        if (in.issue_cycle < last) {
          return sim_error(ref, in, "reaches its plane before an earlier-issued pass on that plane");
        }
        last = in.issue_cycle;
      }
      LPU_TRY(exec_->read(ref, in, fx[e.seq]), "variant " + name);
    }
  }

  StepReport rep;
  rep.variant = name;
  rep.static_latency_cycles = v->static_latency_cycles;
  rep.instructions = total;
  rep.pool_read_bytes.assign(t_.pools.size(), 0);
  rep.pool_write_bytes.assign(t_.pools.size(), 0);
  std::unordered_map<std::uint32_t, OpSummary> ops;
  for (std::uint32_t c = 0; c < chips; ++c) {
    const ChipTally& ct = tally[c];
    rep.simulated_cycles = std::max(rep.simulated_cycles, ct.last_land);
    for (int u = 0; u < isa::kUnitCount; ++u) rep.busy[static_cast<std::size_t>(u)] += ct.busy[static_cast<std::size_t>(u)];
    for (std::size_t q = 0; q < t_.pools.size(); ++q) {
      rep.pool_read_bytes[q] += ct.pool_read[q];
      rep.pool_write_bytes[q] += ct.pool_write[q];
    }
    rep.link_bytes += ct.link_bytes;
    rep.macs += ct.macs;
    rep.vector_ops += ct.vector_ops;
    for (std::uint32_t op = 0; op < ct.op_span.size(); ++op) {
      const auto& span = ct.op_span[op];
      if (span.first > span.second) continue;  // no instruction of this op here
      auto [it, fresh] = ops.try_emplace(op, OpSummary{op, span.first, span.second, "", 0});
      if (!fresh) {
        it->second.start = std::min(it->second.start, span.first);
        it->second.end = std::max(it->second.end, span.second);
      }
      for (int u = 0; u < isa::kUnitCount; ++u) {
        const std::uint64_t busy = ct.op_busy[std::size_t{op} * isa::kUnitCount + static_cast<std::size_t>(u)];
        if (busy > it->second.busy_cycles) {
          it->second.busy_cycles = busy;
          it->second.resource = unit_kind_name(u);
        }
      }
    }
  }
  rep.units[static_cast<std::size_t>(Unit::kMatrix)] = std::uint64_t{chips} * t_.matrix.planes;
  rep.units[static_cast<std::size_t>(Unit::kWeightLoad)] = std::uint64_t{chips} * t_.matrix.planes;
  rep.units[static_cast<std::size_t>(Unit::kVector)] = chips;
  rep.units[static_cast<std::size_t>(Unit::kSwitch)] = chips;
  rep.units[static_cast<std::size_t>(Unit::kLink)] = std::uint64_t{chips} * t_.links.count;
  for (auto& [op, s] : ops) rep.ops.push_back(s);
  std::sort(rep.ops.begin(), rep.ops.end(), [](const OpSummary& a, const OpSummary& b) { return a.op < b.op; });
  std::uint64_t sram = 0;
  for (std::size_t q = 0; q < t_.pools.size(); ++q) sram += rep.pool_read_bytes[q] + rep.pool_write_bytes[q];
  const target::Energy& en = t_.energy;
  rep.energy_j = 1e-12 * (static_cast<double>(rep.macs) * en.pj_per_int8_mac +
                          static_cast<double>(sram) * en.pj_per_sram_byte +
                          static_cast<double>(rep.vector_ops) * en.pj_per_vector_op +
                          static_cast<double>(rep.link_bytes) * en.pj_per_c2c_byte) +
                 en.static_watts * chips * static_cast<double>(rep.simulated_cycles) / t_.clock_hz;
  rep.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace lpu::sim
