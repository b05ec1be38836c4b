#pragma once
// Lowering: one step variant's graph into every chip's instructions,
// handed to the scheduler in dependency order. Matmuls become a weight
// load and a matrix pass per (column tile, K segment) on each plane;
// outputs split over a stage's chips are all-gathered by chip-to-chip
// sends; attention runs per (row, KV head) on the chip that holds the
// head's cache, as matrix passes over KV tiles (docs/isa.md).

#include "lib/compiler/place.h"
#include "lib/compiler/schedule.h"
#include "lib/graph/graph.h"

namespace lpu::compiler {

/// Lowers `g` into `sched`. Index registers the lowering uses are added
/// to `registers` (once per chip and register).
Status lower_variant(const graph::Graph& g, const ModelInput& m, const target::Target& t,
                     const Shapes& s, const Partition& p, const Placement& place,
                     Scheduler& sched);

}  // namespace lpu::compiler
