#pragma once
// What `lpu compile` prints: the placement table, the static latency per
// token and per layer beside the lower bound, prefill latency, unit
// utilisation, predicted tokens/s and energy per token (text), the same
// as JSON, and the per-op bottleneck report (--explain).

#include <string>

#include "lib/compiler/compiler.h"

namespace lpu::compiler {

/// The human-readable report.
std::string report_text(const Compiled& c, const target::Target& t);
/// Per layer and op: the binding resource and by how many cycles.
std::string explain_text(const Compiled& c, const target::Target& t);
/// The JSON report (top level: the decode step at the largest bucket).
std::string report_json(const Compiled& c, const target::Target& t);

/// "512 B", "28.0 KiB", "1.50 MiB", "44.17 GiB": how the compiler's
/// messages and reports write sizes.
std::string byte_size(std::uint64_t bytes);

/// The decode variant at the largest context bucket (the headline one).
std::size_t headline_variant(const Compiled& c);

}  // namespace lpu::compiler
