#pragma once
// A step of the graph evaluated op by op, each op on the int8 pass's own
// primitives (lib/int8, kernels/): what the backends' op executors must
// reproduce. Tests compare its logits with Int8Session's, bit for bit, to
// show that the graph's ops, their order and their tensors are the int8
// pass's.

#include <span>
#include <vector>

#include "include/lpu/token.h"
#include "lib/graph/graph.h"
#include "lib/int8/exec.h"
#include "lib/int8/kv_cache.h"
#include "lib/int8/rope.h"
#include "lib/int8/weights.h"

namespace lpu::testing {

/// One sequence's tokens in a step: rows consecutive from row 0, in order.
struct StepEntry {
  int slot = 0;
  std::span<const TokenId> tokens;
};

class GraphEvaluator {
 public:
  GraphEvaluator(const ModelConfig& config, int max_context, int slots, KvPrecision kv,
                 const int8::Weights& weights, const int8::Exec& exec);

  /// Runs one step (every entry's tokens, each at its slot's position) by
  /// walking the graph's ops; returns every row's logits.
  std::vector<float> step(std::span<const StepEntry> entries);

 private:
  const ModelConfig& config_;
  const int8::Weights& w_;
  const int8::Exec& e_;
  int8::RopeAngles rope_;
  std::vector<int8::KvCache> caches_;
  std::vector<int> positions_;
};

}  // namespace lpu::testing
