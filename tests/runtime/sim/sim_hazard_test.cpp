// The simulator checks rather than replays: a Program edited to break the
// schedule is refused with an error that names the chip, instruction,
// cycle, opcode and the kind of fault; an edited static latency is seen as
// a mismatch; moving instructions either keeps the result or is caught.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tests/lib/compiler/program_checks.h"
#include "tests/lib/int8/int8_test_util.h"
#include "tests/runtime/sim/sim_step.h"

namespace lpu {
namespace {

struct Fixture {
  Model model = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  std::unique_ptr<testing::SimRun> run;
  std::string variant;
  Fixture() {
    compiler::CompileOptions o;
    o.slots = 2;
    o.max_context = 64;
    o.group = 32;
    run = testing::load_sim(model, "tiny", o);
    variant = "decode.ctx64";
  }
  Result<sim::StepReport> go(const program::Program& p, std::vector<float>* logits = nullptr) {
    return testing::run_program(p, model, run->target, variant, {5, 7}, {3, 4}, logits);
  }
  program::Variant& var(program::Program& p) {
    for (program::Variant& v : p.variants) {
      if (v.name == variant) return v;
    }
    return p.variants.front();
  }
};

// Moves instruction `i` of `chip`'s stream to issue at `cycle`, keeping
// the stream in issue order; returns its new index.
std::size_t move_to(program::Variant& v, std::uint32_t chip, std::size_t i, std::uint64_t cycle) {
  auto& s = v.streams[chip];
  isa::Instruction in = s[i];
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(i));
  in.issue_cycle = cycle;
  const auto at = std::upper_bound(s.begin(), s.end(), cycle,
                                   [](std::uint64_t c, const isa::Instruction& x) { return c < x.issue_cycle; });
  const auto idx = static_cast<std::size_t>(at - s.begin());
  s.insert(at, in);
  return idx;
}

// First instruction of `op` on chip 0 after index `from`.
std::size_t find_op(const program::Variant& v, isa::Opcode op, std::size_t from = 0) {
  for (std::size_t i = from; i < v.streams[0].size(); ++i) {
    if (v.streams[0][i].op == op) return i;
  }
  return SIZE_MAX;
}

void expect_error(const Result<sim::StepReport>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << "a faulty Program ran: expected " << what;
  EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().to_string();
  EXPECT_NE(r.status().message().find("chip "), std::string::npos) << r.status().to_string();
}

TEST(SimHazard, TheCompiledProgramRunsCleanly) {
  Fixture f;
  ASSERT_NE(f.run, nullptr);
  auto r = f.go(f.run->compiled.program);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->simulated_cycles, r->static_latency_cycles);
}

TEST(SimHazard, EditedDurationIsRefused) {
  Fixture f;
  ASSERT_NE(f.run, nullptr);
  program::Program p = f.run->compiled.program;
  program::Variant& v = f.var(p);
  const std::size_t i = find_op(v, isa::Opcode::kRmsNorm);
  ASSERT_NE(i, SIZE_MAX);
  v.streams[0][i].duration += 1;
  expect_error(f.go(p), "the machine model gives");
}

TEST(SimHazard, EditedStaticLatencyIsAMismatch) {
  Fixture f;
  ASSERT_NE(f.run, nullptr);
  program::Program p = f.run->compiled.program;
  f.var(p).static_latency_cycles += 7;
  auto r = f.go(p);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->simulated_cycles + 7, r->static_latency_cycles);
}

TEST(SimHazard, UnitDoubleBooked) {
  Fixture f;
  ASSERT_NE(f.run, nullptr);
  program::Program p = f.run->compiled.program;
  program::Variant& v = f.var(p);
  const std::size_t a = find_op(v, isa::Opcode::kRmsNorm);
  const std::size_t b = find_op(v, isa::Opcode::kQuantize, a + 1);
  ASSERT_NE(b, SIZE_MAX);
  move_to(v, 0, b, v.streams[0][a].issue_cycle + 1);
  expect_error(f.go(p), "double-booked");
}

TEST(SimHazard, ReadBeforeItsProducerLands) {
  Fixture f;
  ASSERT_NE(f.run, nullptr);
  program::Program p = f.run->compiled.program;
  program::Variant& v = f.var(p);
  // The first quantize reads the first rmsnorm's output: issue it as the
  // rmsnorm issues (the vector unit is then busy: move the norm off first).
  const std::size_t a = find_op(v, isa::Opcode::kRmsNorm);
  const std::size_t b = find_op(v, isa::Opcode::kQuantize, a + 1);
  const std::uint64_t norm_end = v.streams[0][a].end_cycle();
  move_to(v, 0, b, norm_end);  // unit free again, result not yet landed
  expect_error(f.go(p), "RAW");
}

TEST(SimHazard, WriteOverAPendingRead) {
  Fixture f;
  ASSERT_NE(f.run, nullptr);
  program::Program p = f.run->compiled.program;
  program::Variant& v = f.var(p);
  // The second rmsnorm (ffn_norm) overwrites h, which the first layer's
  // quantize of h read: pull the second norm back to right after that quantize.
  const std::size_t a = find_op(v, isa::Opcode::kRmsNorm);
  const std::size_t q = find_op(v, isa::Opcode::kQuantize, a + 1);
  const std::size_t b = find_op(v, isa::Opcode::kRmsNorm, a + 1);
  ASSERT_NE(b, SIZE_MAX);
  move_to(v, 0, b, v.streams[0][q].end_cycle());
  const auto r = f.go(p);
  ASSERT_FALSE(r.ok());
  const std::string m = r.status().message();
  // Caught first by whichever check it breaks first in issue order (a bank
  // the pulled-back norm shares with a matrix pass, or the read of h).
  EXPECT_TRUE(m.find("WAR") != std::string::npos || m.find("RAW") != std::string::npos ||
              m.find("double-booked") != std::string::npos)
      << m;
}

TEST(SimHazard, AddressOutsideItsPool) {
  Fixture f;
  ASSERT_NE(f.run, nullptr);
  program::Program p = f.run->compiled.program;
  program::Variant& v = f.var(p);
  const std::size_t a = find_op(v, isa::Opcode::kRmsNorm);
  v.streams[0][a].dst.offset = f.run->target.pools[v.streams[0][a].dst.pool].capacity_bytes;
  const auto r = f.go(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("end past pool"), std::string::npos) << r.status().to_string();
}

// Schedule mutation: every instruction of chip 0 moved one cycle earlier
// (so every zero-slack one breaks the schedule), and a random sample moved
// up to 100 cycles either way. Each mutated Program either runs with the
// same logits bit for bit or is refused; never a silently different
// result. Every move that the independent checker of the compiler tests
// (tests/lib/compiler/program_checks) sees as a read before its
// producer's result lands must be refused.
TEST(SimHazard, MovedInstructionsKeepTheBitsOrAreCaught) {
  Fixture f;
  ASSERT_NE(f.run, nullptr);
  std::vector<float> base;
  ASSERT_TRUE(f.go(f.run->compiled.program, &base).ok());
  std::size_t vi = 0;
  while (f.run->compiled.program.variants[vi].name != f.variant) ++vi;
  std::mt19937_64 rng(7);
  int caught = 0, same = 0, raw_moves = 0;
  const std::size_t n = f.var(f.run->compiled.program).streams[0].size();
  std::vector<std::pair<std::size_t, std::int64_t>> moves;
  for (std::size_t i = 1; i < n; ++i) moves.emplace_back(i, -1);
  for (int k = 0; k < 60; ++k) {
    moves.emplace_back(1 + rng() % (n - 1), static_cast<std::int64_t>(rng() % 200) - 100);
  }
  for (const auto& [i, delta] : moves) {
    program::Program p = f.run->compiled.program;
    program::Variant& v = f.var(p);
    const std::uint64_t c = v.streams[0][i].issue_cycle;
    if (delta == 0 || static_cast<std::int64_t>(c) + delta < 1) continue;
    move_to(v, 0, i, static_cast<std::uint64_t>(static_cast<std::int64_t>(c) + delta));
    v.static_latency_cycles += 1000;  // a later move may end past the old latency
    const bool raw = testing::check_hazards(p, f.run->target, vi).find("RAW") != std::string::npos;
    raw_moves += raw ? 1 : 0;
    std::vector<float> got;
    const auto r = f.go(p, &got);
    if (!r.ok()) {
      ++caught;
      continue;
    }
    ASSERT_FALSE(raw) << "a move before its producer's result lands ran (instruction " << i << ", " << delta << ")";
    ASSERT_TRUE(testing::same_bits(got, base)) << "a moved instruction changed the result silently (instruction "
                                               << i << ", " << delta << ")";
    ++same;
  }
  std::printf("schedule mutation: %d moves, %d caught (%.0f%%), %d legal with the same bits; %d reads before their "
              "producer, all caught\n", caught + same, caught, 100.0 * caught / std::max(1, caught + same), same,
              raw_moves);
  EXPECT_GT(caught, 0);
  EXPECT_GT(raw_moves, 0);
}

}  // namespace
}  // namespace lpu
