#pragma once
// How library code reaches the private state of the public classes (the
// one friend they name): their Impl, and their constructor from one. Kept
// out of include/lpu so that applications see neither.

#include <utility>

#include "include/lpu/status.h"

namespace lpu::internal {

struct Access {
  template <typename T>
  static const auto& impl(const T& x) {
    return *x.impl_;
  }
  template <typename T, typename P>
  static T wrap(P&& impl) {
    return T(std::forward<P>(impl));
  }
};

}  // namespace lpu::internal
