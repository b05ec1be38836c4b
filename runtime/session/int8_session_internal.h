#pragma once
// Library-internal: lpu::Int8Session on a chosen kernel path (tests compare
// every path the host can run).

#include "include/lpu/int8_session.h"
#include "kernels/dispatch/isa.h"

namespace lpu::int8 {

/// Int8Session::create with the CPU backend on kernel path `isa`;
/// failed_precondition when this CPU cannot run it.
Result<Int8Session> create_session(const Model& model, int max_context, const Int8Options& options,
                                   kernels::Isa isa);

}  // namespace lpu::int8
