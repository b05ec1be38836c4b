#pragma once
// The layout of a schedule trace (internal to lib/report, trace_json.cpp
// writes it): which thread each instruction and arrival goes to, the flow
// ids of sends, and the matrix counter. Computed before anything is
// written because a send's flow end belongs to a later chip's events.

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lib/isa/isa.h"
#include "lib/program/program.h"
#include "lib/report/trace_json.h"
#include "lib/target/target.h"

namespace lpu::report {

/// The tracks of a chip, the same list for every chip of a trace, in the
/// order they are shown: matrix planes, weight-load ports, vector, switch,
/// links, sync, arrivals. Planes and links are the target's, widened to any
/// index the Program uses so that no instruction lacks a track. A track has
/// one thread per lane (see ChipPlan).
struct Tracks {
  std::uint32_t planes = 0;
  std::uint32_t links = 0;

  std::uint32_t count() const { return 2 * planes + links + 4; }
  std::uint32_t vector() const { return 2 * planes; }
  std::uint32_t sync() const { return 2 * planes + 2 + links; }
  std::uint32_t arrivals() const { return sync() + 1; }

  /// The track of an instruction (sync for recv, barrier, nop).
  std::uint32_t of(const isa::Instruction& in) const {
    switch (in.unit) {
      case isa::Unit::kMatrix:
        return in.unit_index;
      case isa::Unit::kWeightLoad:
        return planes + in.unit_index;
      case isa::Unit::kVector:
        return vector();
      case isa::Unit::kSwitch:
        return vector() + 1;
      case isa::Unit::kLink:
        return vector() + 2 + in.unit_index;
      default:
        return sync();
    }
  }
  /// The thread name of a track's first lane.
  std::string name(std::uint32_t track) const {
    if (track < planes) return "matrix plane " + std::to_string(track);
    if (track < 2 * planes) return "weight load " + std::to_string(track - planes);
    if (track == vector()) return "vector";
    if (track == vector() + 1) return "switch";
    if (track < sync()) return "link " + std::to_string(track - vector() - 2);
    return track == sync() ? "sync" : "arrivals";
  }
  /// The event category: lets a viewer filter by unit kind.
  const char* category(std::uint32_t track) const {
    if (track < planes) return "matrix";
    if (track < 2 * planes) return "weight_load";
    if (track == vector()) return "vector";
    if (track == vector() + 1) return "switch";
    if (track < sync()) return "link";
    return track == sync() ? "sync" : "arrival";
  }
};

/// A send as seen from the chip it lands on.
struct Arrival {
  std::uint64_t land = 0;  ///< cycle its data has surely landed
  std::uint64_t flow = 0;
  std::uint32_t from = 0;
  std::uint32_t link = 0;
  std::uint64_t send_cycle = 0;
  std::uint64_t bytes = 0;
  std::uint32_t op_id = 0;
  std::uint32_t lane = 0;
};

/// One chip's threads: a track has more than one lane (thread) only where
/// its slices would overlap: an invalid Program, or nops on the sync track.
struct ChipPlan {
  std::vector<std::uint32_t> lane;   ///< per instruction
  std::vector<std::uint32_t> lanes;  ///< per track
  std::vector<std::uint32_t> first;  ///< per track: thread index of its lane 0
  std::uint32_t threads = 0;
  std::uint64_t first_flow = 0;   ///< flow id of this chip's first shown send
  std::vector<Arrival> arrivals;  ///< by (landing, flow)
  /// (cycle, busy matrix planes) where the count changes; empty when the
  /// trace leaves the counter out.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> busy;
};

/// The whole trace's layout, and the time scale.
struct Plan {
  Tracks tracks;
  double ns_per_cycle = 1;
  std::size_t shown = 0;  ///< chips written
  std::uint64_t total = 0, total_shown = 0;
  std::uint64_t tid_stride = 1000;
  std::uint64_t counter_events = 0;  ///< of the busy-planes counter
  bool counters = true;              ///< false: left out, over the event limit
  std::vector<ChipPlan> chips;

  /// Whole nanoseconds: Perfetto keeps no finer time, and rounding a
  /// monotone function keeps non-overlapping cycles non-overlapping.
  std::int64_t ns(std::uint64_t cycle) const {
    return std::llround(static_cast<double>(cycle) * ns_per_cycle);
  }
  /// Chip + 1: Perfetto takes pid 0 for the kernel's idle task.
  std::uint32_t pid(std::size_t chip) const { return static_cast<std::uint32_t>(chip + 1); }
  /// Unique across processes (Perfetto mixes up equal tids of two pids).
  std::uint64_t tid(std::size_t chip, std::uint32_t track, std::uint32_t lane) const {
    return pid(chip) * tid_stride + chips[chip].first[track] + lane;
  }
};

/// A send with a flow: one that takes cycles and lands on another shown chip.
bool has_flow(const isa::Instruction& in, std::size_t chip, std::size_t shown);

/// The layout of variant `v` (`p` gives the clock when `t` has none).
Plan make_plan(const program::Program& p, const target::Target& t, const program::Variant& v,
               const TraceOptions& options);

}  // namespace lpu::report
