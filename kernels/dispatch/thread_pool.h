#pragma once
// ThreadPool: the worker threads kernels run on (a oneTBB task arena behind
// a pimpl, so no TBB type appears in kernel headers).
//
// Kernels split their work into tasks whose boundaries depend only on the
// problem shape, never on the number of threads, and every output element
// is computed by exactly one task with a fixed sequence of operations: the
// thread count changes which thread runs a task, never what it computes.

#include <cstddef>
#include <memory>
#include <type_traits>

namespace lpu::kernels {

class ThreadPool {
 public:
  /// A pool of `threads` workers (the calling thread counts as one);
  /// `threads` <= 1 runs every task serially on the calling thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// The number of threads given at construction (at least 1).
  int threads() const { return threads_; }

  /// Calls fn(i) once for every i in [0, n_tasks), in parallel, and returns
  /// when all have finished. fn must not throw.
  template <typename Fn>
  void run(std::size_t n_tasks, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run_erased(
        n_tasks, [](void* ctx, std::size_t i) { (*static_cast<F*>(ctx))(i); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using TaskFn = void (*)(void* ctx, std::size_t task);
  void run_erased(std::size_t n_tasks, TaskFn fn, void* ctx);

  struct Impl;
  int threads_;
  std::unique_ptr<Impl> impl_;
};

/// Runs fn(i) for i in [0, n_tasks) on `pool`, or serially in ascending
/// order on the calling thread when `pool` is null.
template <typename Fn>
void run_tasks(ThreadPool* pool, std::size_t n_tasks, Fn&& fn) {
  if (pool == nullptr || pool->threads() <= 1 || n_tasks <= 1) {
    for (std::size_t i = 0; i < n_tasks; ++i) fn(i);
    return;
  }
  pool->run(n_tasks, fn);
}

}  // namespace lpu::kernels
