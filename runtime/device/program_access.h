#pragma once
// Library-internal view of lpu::Program: the lib/program Program it wraps.

#include "include/lpu/program.h"
#include "lib/program/program.h"

namespace lpu {

struct Program::Impl {
  program::Program program;
  std::string hash;
};

namespace runtime {

inline const program::Program& program_of(const Program& p) { return p.impl().program; }
/// Wraps a built Program (hashing it once).
Program make_program(program::Program p);

}  // namespace runtime
}  // namespace lpu
