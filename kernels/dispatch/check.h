#pragma once
// LPU_KERNEL_CHECK: kernels never return errors (callers validate shapes
// first, see lib/quant); a broken precondition is a bug and aborts with the
// condition and its location.

#include <cstdio>
#include <cstdlib>

#define LPU_KERNEL_CHECK(cond, what)                                                           \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s:%d: kernel precondition failed: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, what);                                                               \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
