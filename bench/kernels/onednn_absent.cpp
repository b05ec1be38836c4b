// Built instead of onednn_bench.cpp when CMake found no oneDNN.

#include "bench/kernels/register.h"

namespace lpu::bench {

bool register_onednn_benchmarks(Shape) { return false; }

std::string onednn_version() { return ""; }

}  // namespace lpu::bench
