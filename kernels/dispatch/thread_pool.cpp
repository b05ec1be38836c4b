#include "kernels/dispatch/thread_pool.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>

namespace lpu::kernels {

struct ThreadPool::Impl {
  explicit Impl(int threads) : arena(threads) {}
  tbb::task_arena arena;
};

ThreadPool::ThreadPool(int threads)
    : threads_(std::max(threads, 1)),
      impl_(threads_ > 1 ? std::make_unique<Impl>(threads_) : nullptr) {}

ThreadPool::~ThreadPool() = default;

void ThreadPool::run_erased(std::size_t n_tasks, TaskFn fn, void* ctx) {
  if (impl_ == nullptr) {
    for (std::size_t i = 0; i < n_tasks; ++i) fn(ctx, i);
    return;
  }
  // Grain 1 with simple_partitioner: each index is its own task, so the
  // split never depends on the number of workers (the callers already made
  // the tasks as coarse as they should be).
  impl_->arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, n_tasks, 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t i = r.begin(); i != r.end(); ++i) fn(ctx, i);
        },
        tbb::simple_partitioner());
  });
}

}  // namespace lpu::kernels
