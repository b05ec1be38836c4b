#pragma once
// Test helpers: compile a model file for a target and run steps of it on
// the simulator, writing token ids and positions and reading the logits
// through the Program's step buffers.

#include <memory>
#include <string>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/token.h"
#include "lib/compiler/compiler.h"
#include "runtime/device/step_io.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/sim/simulator.h"

namespace lpu::testing {

struct SimRun {
  compiler::Compiled compiled;
  target::Target target;
  std::unique_ptr<sim::Simulator> sim;
  std::unique_ptr<cpu::CpuBackend> cpu;
  runtime::StepIo io;
};

/// Compiles `model` for `target_name` and loads it (with SRAM images).
std::unique_ptr<SimRun> load_sim(const Model& model, const std::string& target_name,
                                 const compiler::CompileOptions& options);

/// The same decode step on the CPU backend (its own images).
std::vector<float> cpu_decode(SimRun& run, const std::vector<TokenId>& tokens,
                              const std::vector<int>& positions);

/// One decode step: row r holds tokens[r] at positions[r] (one per slot).
/// Returns rows x n_vocab logits; `cycles` gets the simulated and static
/// latency.
std::vector<float> sim_decode(SimRun& run, const std::vector<TokenId>& tokens,
                              const std::vector<int>& positions, std::uint64_t* simulated,
                              std::uint64_t* static_latency);

}  // namespace lpu::testing

namespace lpu::testing {

/// Loads `p` on a fresh simulator (SRAM images from `model`), runs its
/// variant `variant` as a decode step of `tokens` at `positions`, and
/// returns the report (or the simulator's error); logits into `logits`.
Result<sim::StepReport> run_program(const program::Program& p, const Model& model,
                                    const target::Target& t, const std::string& variant,
                                    const std::vector<TokenId>& tokens,
                                    const std::vector<int>& positions, std::vector<float>* logits,
                                    bool timing_only = false);

}  // namespace lpu::testing
