// Planning a schedule trace (trace_plan.h).
#include "lib/report/trace_plan.h"

#include <algorithm>

#include "lib/isa/timing.h"

namespace lpu::report {
namespace {

using isa::Instruction;
using isa::Unit;

// Greedy interval colouring in start order: each interval goes to the first
// lane that is free by its start, so intervals on one lane never overlap.
class Lanes {
 public:
  std::uint32_t place(std::uint64_t start, std::uint64_t end) {
    for (std::size_t i = 0; i < ends_.size(); ++i) {
      if (ends_[i] <= start) {
        ends_[i] = end;
        return static_cast<std::uint32_t>(i);
      }
    }
    ends_.push_back(end);
    return static_cast<std::uint32_t>(ends_.size() - 1);
  }
  std::uint32_t count() const {
    return ends_.empty() ? 1 : static_cast<std::uint32_t>(ends_.size());
  }

 private:
  std::vector<std::uint64_t> ends_;
};

Tracks tracks_for(const program::Variant& v, const target::Target& t, std::size_t shown) {
  Tracks tr{t.matrix.planes, t.links.count};
  for (std::size_t c = 0; c < shown; ++c) {
    for (const Instruction& in : v.streams[c]) {
      if (in.unit == Unit::kMatrix || in.unit == Unit::kWeightLoad) {
        tr.planes = std::max<std::uint32_t>(tr.planes, in.unit_index + 1u);
      } else if (in.unit == Unit::kLink) {
        tr.links = std::max<std::uint32_t>(tr.links, in.unit_index + 1u);
      }
    }
  }
  return tr;
}

// Places one chip's instructions on lanes and records its sends' arrivals.
void plan_chip(Plan& plan, const program::Variant& v, const target::Target& t, std::size_t chip,
               std::uint64_t& next_flow) {
  ChipPlan& cp = plan.chips[chip];
  std::vector<Lanes> lanes(plan.tracks.count());
  const auto& stream = v.streams[chip];
  cp.lane.resize(stream.size());
  cp.first_flow = next_flow;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    const Instruction& in = stream[i];
    // Instants nest inside anything, so they all share lane 0.
    cp.lane[i] =
        in.duration == 0 ? 0 : lanes[plan.tracks.of(in)].place(in.issue_cycle, in.end_cycle());
    if (!has_flow(in, chip, plan.shown)) continue;
    Arrival a;
    a.land = in.end_cycle() +
             isa::instruction_timing(t, in, static_cast<std::uint32_t>(chip)).write_latency;
    a.flow = next_flow++;
    a.from = static_cast<std::uint32_t>(chip);
    a.link = in.unit_index;
    a.send_cycle = in.issue_cycle;
    a.bytes = std::uint64_t{in.p[1]} * in.p[2];
    a.op_id = in.op_id;
    plan.chips[in.p[0]].arrivals.push_back(a);
  }
  cp.lanes.resize(plan.tracks.count());
  for (std::size_t k = 0; k < lanes.size(); ++k) cp.lanes[k] = lanes[k].count();
}

// Arrival slices last one cycle but at least 1 ns (so the flow end has a
// slice to bind to), which can overlap at clocks above 1 GHz: lanes are
// placed in nanoseconds.
void plan_arrivals(const Plan& plan, ChipPlan& cp) {
  std::sort(cp.arrivals.begin(), cp.arrivals.end(), [](const Arrival& a, const Arrival& b) {
    return std::pair(a.land, a.flow) < std::pair(b.land, b.flow);
  });
  Lanes lanes;
  for (Arrival& a : cp.arrivals) {
    const std::int64_t start = plan.ns(a.land);
    const std::int64_t end = std::max(plan.ns(a.land + 1), start + 1);
    a.lane = lanes.place(static_cast<std::uint64_t>(start), static_cast<std::uint64_t>(end));
  }
  cp.lanes.back() = lanes.count();
}

// Where the number of busy matrix planes changes. Ends sort before starts
// at one cycle, and changes that cancel within a cycle are not recorded
// (back-to-back matmuls leave the count as it is).
std::vector<std::pair<std::uint64_t, std::uint32_t>> matrix_busy(
    const std::vector<Instruction>& stream) {
  std::vector<std::pair<std::uint64_t, int>> edges;
  for (const Instruction& in : stream) {
    if (in.unit != Unit::kMatrix || in.duration == 0) continue;
    edges.emplace_back(in.issue_cycle, 1);
    edges.emplace_back(in.end_cycle(), -1);
  }
  std::sort(edges.begin(), edges.end());
  std::vector<std::pair<std::uint64_t, std::uint32_t>> out;
  std::int64_t busy = 0;
  for (std::size_t i = 0; i < edges.size();) {
    const std::uint64_t cycle = edges[i].first;
    for (; i < edges.size() && edges[i].first == cycle; ++i) busy += edges[i].second;
    if (out.empty() || out.back().second != busy) {
      out.emplace_back(cycle, static_cast<std::uint32_t>(busy));
    }
  }
  return out;
}

// The counter costs an event per change, about one per matmul: it is kept
// only while instructions and counter events together stay within the
// limit, so that it never pushes a large trace past what a viewer loads.
void plan_counters(Plan& plan, const program::Variant& v, std::uint64_t max_events) {
  if (plan.tracks.planes == 0) return;
  for (std::size_t c = 0; c < plan.shown; ++c) {
    plan.chips[c].busy = matrix_busy(v.streams[c]);
    plan.counter_events += plan.chips[c].busy.size();
  }
  if (plan.total_shown + plan.counter_events <= max_events) return;
  plan.counters = false;
  for (ChipPlan& cp : plan.chips)
    std::vector<std::pair<std::uint64_t, std::uint32_t>>().swap(cp.busy);
}

}  // namespace

bool has_flow(const Instruction& in, std::size_t chip, std::size_t shown) {
  return in.op == isa::Opcode::kSend && in.duration > 0 && in.p[0] < shown && in.p[0] != chip;
}

Plan make_plan(const program::Program& p, const target::Target& t, const program::Variant& v,
               const TraceOptions& options) {
  Plan plan;
  const double hz = t.clock_hz > 0 ? t.clock_hz : p.meta.clock_hz > 0 ? p.meta.clock_hz : 1e9;
  plan.ns_per_cycle = 1e9 / hz;
  for (const auto& s : v.streams) plan.total += s.size();
  // Whole chips, as many as fit the cap (at least one, or the trace says nothing).
  for (const auto& s : v.streams) {
    if (plan.shown > 0 && plan.total_shown + s.size() > options.max_instructions) break;
    plan.total_shown += s.size();
    ++plan.shown;
  }
  plan.tracks = tracks_for(v, t, plan.shown);
  plan.chips.resize(plan.shown);
  std::uint64_t next_flow = 1;
  for (std::size_t c = 0; c < plan.shown; ++c) plan_chip(plan, v, t, c, next_flow);
  std::uint32_t most = 0;
  for (ChipPlan& cp : plan.chips) {
    plan_arrivals(plan, cp);
    cp.first.resize(cp.lanes.size());
    for (std::size_t k = 0; k < cp.lanes.size(); ++k) {
      cp.first[k] = cp.threads;
      cp.threads += cp.lanes[k];
    }
    most = std::max(most, cp.threads);
  }
  // Thread ids are unique across processes (Perfetto merges equal tids of
  // different pids badly): pid * stride + thread, stride a power of ten.
  while (most >= plan.tid_stride) plan.tid_stride *= 10;
  plan_counters(plan, v, options.max_instructions);
  return plan;
}

}  // namespace lpu::report
