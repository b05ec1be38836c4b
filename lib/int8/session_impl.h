#pragma once
// Library-internal view of lpu::Int8Session, and a way to create one on a
// chosen kernel path (tests compare every path the host can run).

#include <memory>
#include <vector>

#include "include/lpu/int8_session.h"
#include "kernels/dispatch/isa.h"
#include "kernels/dispatch/thread_pool.h"
#include "lib/int8/exec.h"
#include "lib/int8/kv_cache.h"
#include "lib/int8/rope.h"
#include "lib/int8/weights.h"

namespace lpu {

struct Int8Session::Impl {
  ModelConfig config;
  Int8Options options;
  int max_context = 0;
  int8::Weights weights;
  int8::RopeAngles rope;
  std::vector<int8::KvCache> caches;  // one per slot
  std::vector<int> positions;         // one per slot
  std::unique_ptr<kernels::ThreadPool> pool;
  int8::Exec exec;  // points at config, pool and the kernel tables
};

namespace int8 {

/// Int8Session::create on kernel path `isa` (int8 and float kernels);
/// failed_precondition when this CPU cannot run it.
Result<Int8Session> create_session(const Model& model, int max_context, const Int8Options& options,
                                   kernels::Isa isa);

}  // namespace int8
}  // namespace lpu
