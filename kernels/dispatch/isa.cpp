#include "kernels/dispatch/isa.h"

#include <cstdio>
#include <cstdlib>

namespace lpu::kernels {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kPortable:
      return "portable";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512Vnni:
      return "avx512vnni";
  }
  return "unknown";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512Vnni}) {
    if (name == isa_name(isa)) return isa;
  }
  return std::nullopt;
}

bool cpu_supports(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports also checks that the OS saves the wider register
  // state (XCR0), so a feature reported here is usable.
  switch (isa) {
    case Isa::kPortable:
      return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::kAvx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::kPortable;
#endif
}

namespace {

Isa detect_active_isa() {
  Isa best = Isa::kPortable;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512Vnni}) {
    if (cpu_supports(isa)) best = isa;
  }
  if (const char* env = std::getenv("LPU_ISA"); env != nullptr && *env != '\0') {
    const std::optional<Isa> cap = parse_isa(env);
    if (!cap) {
      std::fprintf(stderr, "lpu: LPU_ISA=%s is not one of portable, avx2, avx512vnni; ignored\n",
                   env);
    } else if (static_cast<int>(*cap) < static_cast<int>(best)) {
      best = *cap;
    }
  }
  return best;
}

}  // namespace

Isa active_isa() {
  static const Isa isa = detect_active_isa();
  return isa;
}

}  // namespace lpu::kernels
