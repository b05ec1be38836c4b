#pragma once
// Library-internal view of lpu::Program: the lib/program Program it wraps.

#include <mutex>
#include <string>

#include "lib/core/access.h"
#include "include/lpu/program.h"
#include "lib/program/program.h"

namespace lpu {

struct Program::Impl {
  program::Program program;
  // SHA-256 of the serialised Program, computed on first use (it reads
  // every instruction: a large Program takes a while).
  mutable std::once_flag hash_once;
  mutable std::string hash;
};

namespace runtime {

inline const program::Program& program_of(const Program& p) { return internal::Access::impl(p).program; }
/// Wraps a built Program.
Program make_program(program::Program p);

}  // namespace runtime
}  // namespace lpu
