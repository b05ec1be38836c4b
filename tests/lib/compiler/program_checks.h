#pragma once
// Independent checks of a compiled Program for the compiler tests: they
// read only the Program, the target and the machine model's timing table,
// never the compiler's internals.
//  - resources: no two instructions of one chip hold a unit, a link, or
//    the read (write) side of a bank at the same cycle;
//  - hazards: for two instructions of different graph ops whose memory
//    ranges overlap, the later op (graph order) reads after the earlier
//    one's result has landed (RAW), its result lands after the earlier
//    one's reads end (WAR) and after its result (WAW). An instruction
//    reads its sources over [issue + read latency, that + duration).

#include <string>

#include "lib/program/program.h"
#include "lib/target/target.h"

namespace lpu::testing {

/// "" when every check passes, else the first violation found.
std::string check_resources(const program::Program& p, const target::Target& t,
                            std::size_t variant);
std::string check_hazards(const program::Program& p, const target::Target& t,
                          std::size_t variant);

}  // namespace lpu::testing
