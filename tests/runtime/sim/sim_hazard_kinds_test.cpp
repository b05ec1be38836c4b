// Each hazard kind, in a Program made by hand on the `tiny` target (two
// chips; pool `state` has two banks of 14 KiB, `weights` two of 12 KiB),
// is caught by the simulator (timing-only: the checks do not need data)
// with an error that names the chip, instruction, cycle, opcode and kind;
// the same instructions issued legally run, their cycles the static latency.
#include <gtest/gtest.h>

#include <algorithm>

#include "lib/program/program.h"
#include "lib/target/target.h"
#include "runtime/sim/machine_timing.h"
#include "runtime/sim/simulator.h"

namespace lpu {
namespace {

using isa::Instruction;
using isa::Opcode;

constexpr std::uint8_t kState = 0;
constexpr std::uint8_t kWeights = 1;
constexpr std::uint64_t kBank1 = 14336;  // first byte of state's second bank

isa::Operand at(std::uint8_t pool, std::uint64_t offset, std::uint32_t bytes) {
  isa::Operand o;
  o.pool = pool;
  o.offset = offset;
  o.bytes = bytes;
  return o;
}

// dst = a + b over n floats (the vector unit).
Instruction add(isa::Operand a, isa::Operand b, isa::Operand d, std::uint32_t n) {
  Instruction in;
  in.op = Opcode::kAdd;
  in.unit = isa::Unit::kVector;
  in.src[0] = a;
  in.src[1] = b;
  in.dst = d;
  in.p[0] = n;
  return in;
}

// dst = src (the switch unit).
Instruction copy(isa::Operand s, isa::Operand d) {
  Instruction in;
  in.op = Opcode::kCopy;
  in.unit = isa::Unit::kSwitch;
  in.src[0] = s;
  in.dst = d;
  return in;
}

// One row of `bytes` from src here to dst on chip `to`, over link `link`.
Instruction send(std::uint8_t link, std::uint32_t to, isa::Operand s, isa::Operand d) {
  Instruction in;
  in.op = Opcode::kSend;
  in.unit = isa::Unit::kLink;
  in.unit_index = link;
  in.src[0] = s;
  in.dst = d;
  in.p = {to, 1, s.bytes, s.bytes, s.bytes, 0, 0};
  return in;
}

struct Placed {
  std::uint32_t chip;
  std::uint64_t issue;
  Instruction in;
};

class HandMade : public ::testing::Test {
 protected:
  HandMade() : t_(*target::target_preset("tiny")) {}

  // A Program of `items` in program order (their seq), durations from the
  // simulator's machine model, static latency = the last landing.
  program::Program build(std::vector<Placed> items) const {
    program::Program p;
    p.meta.model_name = "hand-made";
    p.meta.model_hash = std::string(64, 'a');
    p.meta.target_name = t_.name;
    p.meta.target_hash = target::target_hash(t_);
    p.meta.options_hash = std::string(64, 'c');
    p.meta.group = 32;
    p.meta.slots = 1;
    p.meta.chips = 2;
    p.meta.clock_hz = t_.clock_hz;
    for (const target::Pool& pool : t_.pools) p.pool_names.push_back(pool.name);
    p.ops = {{"step", "add", -1}};
    program::Variant v;
    v.name = "step";
    v.rows = 1;
    v.context = 1;
    v.streams.resize(2);
    std::uint64_t latency = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      Instruction in = items[i].in;
      in.seq = static_cast<std::uint32_t>(i);
      in.issue_cycle = items[i].issue;
      const sim::InstrTiming tm = sim::timing_of(t_, in, items[i].chip);
      in.duration = static_cast<std::uint32_t>(tm.duration);
      latency = std::max(latency, in.issue_cycle + tm.duration + tm.write_latency);
      v.streams[items[i].chip].push_back(in);
    }
    for (auto& s : v.streams) {
      std::stable_sort(s.begin(), s.end(), [](const Instruction& a, const Instruction& b) {
        return a.issue_cycle < b.issue_cycle;
      });
    }
    v.static_latency_cycles = latency;
    p.variants.push_back(std::move(v));
    return p;
  }

  // Issue cycle at which `in` (on `chip`) may read what an instruction
  // issued at `after` produced.
  std::uint64_t after(const Instruction& producer, std::uint32_t chip, std::uint64_t issue) const {
    const sim::InstrTiming tm = sim::timing_of(t_, producer, chip);
    return issue + tm.duration + tm.write_latency;
  }

  Result<sim::StepReport> run(const program::Program& p) const {
    LPU_ASSIGN_OR_RETURN(std::unique_ptr<sim::Simulator> s, sim::Simulator::create(p, t_, {}));
    sim::SimOptions o;
    o.timing_only = true;
    return s->run("step", o);
  }

  void expect_caught(const program::Program& p, const std::string& kind) const {
    auto r = run(p);
    ASSERT_FALSE(r.ok()) << "expected " << kind;
    const std::string m = r.status().message();
    EXPECT_NE(m.find(kind), std::string::npos) << m;
    EXPECT_NE(m.find("chip "), std::string::npos) << "[" << m << "]";
    EXPECT_NE(m.find(" @"), std::string::npos) << m;
  }

  target::Target t_;
  // Operands: x in state's first bank, y and z in its second, w0 and w1 in weights.
  const isa::Operand x = at(kState, 0, 256), y = at(kState, kBank1, 256), z = at(kState, kBank1 + 256, 256);
  const isa::Operand w0 = at(kWeights, 0, 256), w1 = at(kWeights, 256, 256);
};

TEST_F(HandMade, LegalScheduleRunsAndMeetsItsLatency) {
  const Instruction a = add(y, w0, x, 64);
  const Instruction c = copy(x, z);
  auto r = run(build({{0, 0, a}, {0, after(a, 0, 0), c}}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->simulated_cycles, r->static_latency_cycles);
}

TEST_F(HandMade, BankReadPortDoubleBooked) {
  // The switch and the vector unit read the same bank in the same cycle.
  expect_caught(build({{0, 0, copy(x, z)}, {0, 0, add(x, w0, w1, 64)}}), "read port of bank 0 of pool state double-booked");
}

TEST_F(HandMade, LinkOversubscribed) {
  // Two sends on link 0 at once (sources in different banks).
  expect_caught(build({{0, 0, send(0, 1, x, x)}, {0, 1, send(0, 1, y, y)}}), "link link.0 double-booked");
}

TEST_F(HandMade, UnitDoubleBooked) {
  expect_caught(build({{0, 0, add(y, w0, x, 64)}, {0, 1, add(z, w1, x, 64)}}), "unit vector.0 double-booked");
}

TEST_F(HandMade, ReadBeforeItsProducerLands) {
  // The copy reads x while the add that writes it is still in flight.
  expect_caught(build({{0, 0, add(y, w0, x, 64)}, {0, 1, copy(x, z)}}), "RAW");
}

TEST_F(HandMade, WriteOverAPendingRead) {
  // A long copy reads x; the add (another unit, other banks) overwrites x
  // before the copy's read window ends.
  const Instruction c = copy(at(kState, 0, 4096), at(kState, kBank1, 4096));
  expect_caught(build({{0, 0, c}, {0, 1, add(w0, w1, x, 64)}}), "WAR");
}

TEST_F(HandMade, WritesLandingOutOfOrder) {
  // Chip 0 sends into chip 1's x; chip 1's add (later in program order)
  // writes x and lands before the send does.
  expect_caught(build({{0, 0, send(0, 1, x, x)}, {1, 1, add(w0, w1, x, 64)}}), "WAW");
}

TEST_F(HandMade, AddressOutsideItsPool) {
  auto r = run(build({{0, 0, add(y, w0, at(kState, 28672 - 128, 256), 64)}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("end past pool"), std::string::npos) << r.status().to_string();
}

}  // namespace
}  // namespace lpu
