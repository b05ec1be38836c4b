#pragma once
// The lower bound of a step (docs/lower-bound.md): no schedule beats
//   max(critical path, busiest resource)
// at the target's peak rates. The critical path runs through the step's
// ops in graph order, each taking its own best time on the chip of its
// stage that has the most work: the largest of its matrix compute, its
// weight loading beyond what the matrix unit's buffer can hold preloaded,
// its vector work and its switch work; every all-gather or stage transfer
// adds hop latency plus its largest piece over one link. The busiest
// resource is, per chip, the total work on a matrix plane, a weight-load
// port, the vector unit or one link, over its rate. Computed from (graph,
// partition, target) alone, apart from the scheduler. The partition-free
// bound divides the total work of each resource by all chips' rates.

#include "lib/compiler/compiler.h"
#include "lib/compiler/partition.h"
#include "lib/graph/graph.h"

namespace lpu::compiler {

/// Per op: its best time and the resource that sets it.
struct OpBound {
  std::uint64_t cycles = 0;
  std::string resource;
};

Bound lower_bound(const graph::Graph& g, const ModelInput& m, const target::Target& t,
                  const Shapes& s, const Partition& p, std::vector<OpBound>* per_op = nullptr);

/// Not a bound: the same sum with every gather's sends to all peers on the
/// chain (as the scheduler emits them), which ranks partitions the way
/// their schedules rank; the compiler chooses partitions by it.
std::uint64_t partition_estimate(const graph::Graph& g, const ModelInput& m,
                                 const target::Target& t, const Shapes& s, const Partition& p);

}  // namespace lpu::compiler
