#pragma once
// The instruction sets the int8 kernels are built for, and which one runs.
//
// Every path computes bit-identical results; the choice only changes speed.
// It is made once per process from the CPU's features, capped by the
// environment variable LPU_ISA=portable|avx2|avx512vnni (a way to force a
// lower path for tests and comparisons; a path the CPU lacks is never used).

#include <optional>
#include <string_view>

namespace lpu::kernels {

/// Kernel paths, lowest first.
enum class Isa {
  kPortable = 0,    ///< plain C++ (any CPU)
  kAvx2 = 1,        ///< AVX2 + FMA
  kAvx512Vnni = 2,  ///< AVX-512 F/BW/VL/DQ + VNNI
};

/// "portable", "avx2" or "avx512vnni".
std::string_view isa_name(Isa isa);

/// Parses a name as isa_name() prints it; nullopt for anything else.
std::optional<Isa> parse_isa(std::string_view name);

/// True when this CPU and OS support the instructions of `isa`.
bool cpu_supports(Isa isa);

/// The best path this CPU supports, capped by $LPU_ISA when set (an unknown
/// value is ignored with a message on standard error). Computed once.
Isa active_isa();

}  // namespace lpu::kernels
