#pragma once
// A Program's static schedule as a Chrome/Perfetto trace (the JSON object
// form of the trace-event format), to look at in ui.perfetto.dev or
// chrome://tracing:
//  - one process per chip ("chip N"; pid N + 1, since Perfetto reserves
//    pid 0 for the kernel's idle task), sorted by chip;
//  - one thread per unit, in a fixed order: matrix plane i, weight-load
//    port i, vector, switch, link i, sync, arrivals;
//  - one complete (`X`) slice per instruction, named by its opcode, with
//    the op-table name, cycle, duration in cycles and operands as args;
//    zero-duration instructions (recv, barrier) as thread-scoped instants;
//  - a flow (`s` on the send's slice, `f` on a one-cycle slice of the
//    destination chip's "arrivals" thread at the landing cycle) per send;
//  - a counter per chip of how many matrix planes are busy (left out of
//    traces near the size limit).
// Timestamps are microseconds (the format's unit) rounded to whole
// nanoseconds, the resolution Perfetto keeps; otherData states the cycle
// scale. Instructions that overlap on one unit (an invalid Program, or nops
// on the sync track) go to extra lanes ("vector #1") so that slices on
// every thread nest strictly, as the format requires.

#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/program/program.h"
#include "lib/target/target.h"

namespace lpu::report {

struct TraceOptions {
  /// A variant with more instructions than this shows only its first
  /// chips, as many as fit (at least one), and the matrix counter (about
  /// an event per matmul) is left out when it would take the events past
  /// this; otherData says which. The default keeps a trace near 550 MB,
  /// about what Perfetto's UI loads.
  std::uint64_t max_instructions = 2'000'000;
};

/// The trace-event JSON of variant `variant` of `p` on `t` (cycles become
/// time through t.clock_hz, or p.meta.clock_hz when the target has none).
/// The same inputs give the same bytes. An out-of-range `variant` gives a
/// trace with no events and otherData.error saying why.
std::string trace_json(const program::Program& p, const target::Target& t, std::size_t variant,
                       const TraceOptions& options);
std::string trace_json(const program::Program& p, const target::Target& t, std::size_t variant);

}  // namespace lpu::report
