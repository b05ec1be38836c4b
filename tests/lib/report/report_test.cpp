// lib/report: the schedule trace (read back as the Chrome trace-event
// format a viewer expects) and the SRAM map page.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "lib/isa/isa.h"
#include "lib/isa/timing.h"
#include "lib/program/program.h"
#include "lib/report/sram_map.h"
#include "lib/report/trace_json.h"
#include "lib/target/target.h"

namespace lpu::report {
namespace {

using isa::Instruction;
using isa::Opcode;
using isa::Unit;
using nlohmann::json;
using program::DataKind;
using program::Encoding;

constexpr std::uint8_t kAct = 0;
constexpr std::uint8_t kWeights = 1;

target::Target test_target(double clock_hz = 1e9) {
  target::Target t;
  t.name = "t2";
  t.clock_hz = clock_hz;
  target::Pool act{.name = "act", .capacity_bytes = 64 * 1024, .banks = 2};
  target::Pool w{.name = "weights", .capacity_bytes = 1024 * 1024, .banks = 4};
  for (target::Pool* p : {&act, &w}) {
    p->bank_read_bytes_per_cycle = p->bank_write_bytes_per_cycle = 64;
    std::fill(std::begin(p->latency), std::end(p->latency), 2u);
  }
  t.pools = {act, w};
  t.matrix.planes = 2;
  t.links = {.count = 2, .bytes_per_cycle = 64, .hop_latency_cycles = 10};
  t.topology.chips_per_node = 2;
  return t;
}

program::LayoutEntry entry(std::string name, std::uint32_t chip, std::uint8_t pool, DataKind kind,
                           std::uint64_t offset, std::uint64_t bytes) {
  program::LayoutEntry e;
  e.name = std::move(name);
  e.chip = chip;
  e.pool = pool;
  e.kind = kind;
  e.encoding = kind == DataKind::kWeights ? Encoding::kTiledS8 : Encoding::kZero;
  e.offset = offset;
  e.bytes = bytes;
  return e;
}

Instruction instr(Opcode op, Unit unit, std::uint8_t index, std::uint64_t issue,
                  std::uint32_t duration, std::uint32_t op_id) {
  Instruction in;
  in.op = op;
  in.unit = unit;
  in.unit_index = index;
  in.issue_cycle = issue;
  in.duration = duration;
  in.op_id = op_id;
  return in;
}

isa::Operand operand(std::uint8_t pool, std::uint64_t offset, std::uint32_t bytes) {
  return {.pool = pool, .bytes = bytes, .offset = offset};
}

// 2 chips, pools "act" and "weights"; chip 0 loads, multiplies on both
// planes, normalises and sends to chip 1; both meet at a barrier.
program::Program test_program() {
  program::Program p;
  p.meta.model_name = "tiny<test>";
  p.meta.target_name = "t2";
  p.meta.group = 32;
  p.meta.kv = "int8";
  p.meta.slots = 2;
  p.meta.chips = 2;
  p.meta.clock_hz = 1e9;
  p.pool_names = {"act", "weights"};
  for (std::uint32_t c = 0; c < 2; ++c) {
    p.layout.push_back(entry("blk.0.attn_q.weight", c, kWeights, DataKind::kWeights, 0, 8192));
    p.layout.push_back(entry("norm<w>", c, kWeights, DataKind::kWeights, 8192, 256));
    p.layout.push_back(entry("act.x", c, kAct, DataKind::kActivations, 0, 4096));
    p.layout.push_back(entry("kv.slot0.blk.0.k", c, kAct, DataKind::kKv, 8192, 16384));
    p.layout.push_back(entry("text", c, kAct, DataKind::kInstructions, 60000, 512));
  }
  p.ops = {{"embed", "embed", -1}, {"blk.0.attn_q", "matmul", 0}, {"gather \"x\"", "copy", -1}};
  program::Variant v;
  v.name = "decode.ctx16";
  v.streams.resize(2);
  auto& c0 = v.streams[0];
  c0.push_back(instr(Opcode::kLoadWeights, Unit::kWeightLoad, 0, 0, 10, 1));
  c0.back().src[0] = operand(kWeights, 0, 4096);
  c0.push_back(instr(Opcode::kMatmul, Unit::kMatrix, 0, 10, 20, 1));
  c0.back().src[0] = operand(kAct, 0, 1024);
  c0.back().dst = operand(kAct, 1024, 512);
  c0.push_back(instr(Opcode::kMatmul, Unit::kMatrix, 1, 12, 20, 1));
  c0.push_back(instr(Opcode::kRmsNorm, Unit::kVector, 0, 32, 5, 0));
  c0.push_back(instr(Opcode::kSend, Unit::kLink, 0, 40, 8, 2));
  c0.back().src[0] = operand(kAct, 1024, 512);
  c0.back().dst = operand(kAct, 1024, 512);
  c0.back().p = {1, 1, 512, 512, 512, 0, 0};
  c0.push_back(instr(Opcode::kBarrier, Unit::kSync, 0, 70, 0, 0));
  auto& c1 = v.streams[1];
  c1.push_back(instr(Opcode::kLoadWeights, Unit::kWeightLoad, 0, 0, 10, 1));
  c1.push_back(instr(Opcode::kRecv, Unit::kSync, 0, 60, 0, 2));
  c1.back().p[0] = 0;
  c1.push_back(instr(Opcode::kAdd, Unit::kVector, 0, 60, 4, 0));
  c1.push_back(instr(Opcode::kBarrier, Unit::kSync, 0, 70, 0, 0));
  p.variants.push_back(v);
  return p;
}

std::vector<json> events(const json& trace, const std::string& ph) {
  std::vector<json> out;
  for (const json& e : trace.at("traceEvents")) {
    if (e.at("ph") == ph) out.push_back(e);
  }
  return out;
}

std::int64_t ns(const json& us) { return std::llround(us.get<double>() * 1000.0); }

// The thread names of each pid, by tid.
std::map<std::pair<int, std::int64_t>, std::string> thread_names(const json& trace) {
  std::map<std::pair<int, std::int64_t>, std::string> out;
  for (const json& e : events(trace, "M")) {
    if (e.at("name") == "thread_name") out[{e.at("pid"), e.at("tid")}] = e["args"]["name"];
  }
  return out;
}

TEST(TraceJson, IsTheChromeTraceEventFormat) {
  const json trace = json::parse(trace_json(test_program(), test_target(), 0));
  EXPECT_EQ(trace.at("displayTimeUnit"), "ns");
  EXPECT_EQ(trace.at("otherData").at("scale"), "1 cycle = 1 ns");
  EXPECT_EQ(trace.at("otherData").at("variant"), "decode.ctx16");
  // 7 instructions with a duration and one arrival; recv and two barriers.
  EXPECT_EQ(events(trace, "X").size(), 8u);
  const auto instants = events(trace, "i");
  ASSERT_EQ(instants.size(), 3u);
  for (const json& e : instants) EXPECT_EQ(e.at("s"), "t");
  std::map<int, std::string> processes;
  for (const json& e : events(trace, "M")) {
    if (e.at("name") == "process_name") processes[e.at("pid")] = e["args"]["name"];
  }
  EXPECT_EQ(processes, (std::map<int, std::string>{{1, "chip 0"}, {2, "chip 1"}}));
  std::vector<std::string> chip0;
  std::set<std::int64_t> tids;
  for (const auto& [key, name] : thread_names(trace)) {
    EXPECT_TRUE(tids.insert(key.second).second) << "tid " << key.second << " reused";
    if (key.first == 1) chip0.push_back(name);
  }
  EXPECT_EQ(chip0, (std::vector<std::string>{"matrix plane 0", "matrix plane 1", "weight load 0",
                                             "weight load 1", "vector", "switch", "link 0",
                                             "link 1", "sync", "arrivals"}));
  // Every thread has a sort index.
  std::size_t sort_indices = 0;
  for (const json& e : events(trace, "M")) sort_indices += e.at("name") == "thread_sort_index";
  EXPECT_EQ(sort_indices, tids.size());
}

TEST(TraceJson, SlicesCarryTheInstructionAndScaleWithTheClock) {
  const program::Program p = test_program();
  for (double hz : {1e9, 9e8}) {
    const json trace = json::parse(trace_json(p, test_target(hz), 0));
    const auto names = thread_names(trace);
    bool found = false;
    for (const json& e : events(trace, "X")) {
      if (e.at("name") != "matmul" || names.at({e.at("pid"), e.at("tid")}) != "matrix plane 0") {
        continue;
      }
      found = true;
      EXPECT_EQ(e.at("cat"), "matrix");
      EXPECT_EQ(ns(e.at("ts")), std::llround(10 * 1e9 / hz));
      EXPECT_EQ(ns(e.at("dur")), std::llround(30 * 1e9 / hz) - std::llround(10 * 1e9 / hz));
      const json& args = e.at("args");
      EXPECT_EQ(args.at("op"), "blk.0.attn_q");
      EXPECT_EQ(args.at("cycle"), 10);
      EXPECT_EQ(args.at("duration_cycles"), 20);
      EXPECT_EQ(args.at("src0"), "act+0x0:1024");
      EXPECT_EQ(args.at("dst"), "act+0x400:512");
      EXPECT_FALSE(args.contains("src1"));
    }
    EXPECT_TRUE(found) << hz;
  }
  const json slow = json::parse(trace_json(p, test_target(9e8), 0));
  EXPECT_EQ(slow.at("otherData").at("scale"), "1 cycle = 1.11111 ns");
}

TEST(TraceJson, SlicesOnOneThreadNestAndFlowsPair) {
  const program::Program p = test_program();
  const target::Target t = test_target();
  const json trace = json::parse(trace_json(p, t, 0));
  std::map<std::pair<int, std::int64_t>, std::vector<std::pair<std::int64_t, std::int64_t>>> spans;
  for (const json& e : events(trace, "X")) {
    spans[{e.at("pid"), e.at("tid")}].emplace_back(ns(e.at("ts")),
                                                   ns(e.at("ts")) + ns(e.at("dur")));
  }
  for (auto& [key, list] : spans) {
    std::sort(list.begin(), list.end());
    for (std::size_t i = 1; i < list.size(); ++i) {
      EXPECT_LE(list[i - 1].second, list[i].first) << "pid " << key.first << " tid " << key.second;
    }
  }
  // Each flow: one start inside a send slice, one end inside an arrival.
  auto inside = [&spans](const json& e) {
    for (const auto& [a, b] : spans[{e.at("pid"), e.at("tid")}]) {
      if (a <= ns(e.at("ts")) && ns(e.at("ts")) < b) return true;
    }
    return false;
  };
  const auto starts = events(trace, "s");
  const auto ends = events(trace, "f");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(starts[0].at("id"), ends[0].at("id"));
  EXPECT_EQ(std::tie(starts[0].at("cat"), starts[0].at("name")),
            std::tie(ends[0].at("cat"), ends[0].at("name")));
  EXPECT_EQ(ends[0].at("bp"), "e");
  EXPECT_TRUE(inside(starts[0]));
  EXPECT_TRUE(inside(ends[0]));
  EXPECT_EQ(starts[0].at("pid"), 1);
  EXPECT_EQ(ends[0].at("pid"), 2);
  EXPECT_EQ(thread_names(trace).at({2, ends[0].at("tid")}), "arrivals");
  const Instruction& send = p.variants[0].streams[0][4];
  const std::uint64_t land = send.end_cycle() + isa::instruction_timing(t, send, 0).write_latency;
  EXPECT_EQ(ns(ends[0].at("ts")), static_cast<std::int64_t>(land));
}

TEST(TraceJson, CountsBusyMatrixPlanes) {
  const json trace = json::parse(trace_json(test_program(), test_target(), 0));
  std::vector<std::pair<std::int64_t, int>> counts;
  for (const json& e : events(trace, "C")) {
    if (e.at("pid") == 1) counts.emplace_back(ns(e.at("ts")), e["args"]["busy_planes"]);
  }
  EXPECT_EQ(counts,
            (std::vector<std::pair<std::int64_t, int>>{{10, 1}, {12, 2}, {30, 1}, {32, 0}}));
}

TEST(TraceJson, DeterministicAndEscaped) {
  program::Program p = test_program();
  p.ops[0].name = "bad \x01 \xff name\\";
  const std::string a = trace_json(p, test_target(), 0);
  EXPECT_EQ(a, trace_json(p, test_target(), 0));
  const json trace = json::parse(a);
  bool found = false;
  for (const json& e : events(trace, "X")) {
    if (e.at("name") != "rmsnorm") continue;
    found = true;
    EXPECT_EQ(e["args"]["op"], "bad \x01 \xEF\xBF\xBD name\\");
  }
  EXPECT_TRUE(found);
}

TEST(TraceJson, LargeVariantsShowTheFirstChips) {
  const json trace = json::parse(
      trace_json(test_program(), test_target(), 0, TraceOptions{.max_instructions = 6}));
  for (const json& e : trace.at("traceEvents")) EXPECT_EQ(e.at("pid"), 1);
  EXPECT_EQ(events(trace, "s").size(), 0u);  // the send's destination is not shown
  EXPECT_EQ(trace.at("otherData").at("chips_shown"), 1);
  EXPECT_TRUE(trace.at("otherData").contains("truncated"));
}

TEST(TraceJson, CounterLeftOutNearTheLimit) {
  // 10 instructions fit; with chip 0's 4 counter changes they would not.
  const json trace = json::parse(
      trace_json(test_program(), test_target(), 0, TraceOptions{.max_instructions = 12}));
  EXPECT_EQ(trace.at("otherData").at("chips_shown"), 2);
  EXPECT_TRUE(events(trace, "C").empty());
  EXPECT_TRUE(trace.at("otherData").contains("matrix_counter"));
  EXPECT_FALSE(trace.at("otherData").contains("truncated"));
}

TEST(TraceJson, OverlappingSlicesGetTheirOwnLane) {
  program::Program p = test_program();
  // Nops take cycles on the sync track, which no unit keeps apart.
  auto& s = p.variants[0].streams[1];
  s.insert(s.begin() + 1, instr(Opcode::kNop, Unit::kSync, 0, 2, 10, 0));
  s.insert(s.begin() + 2, instr(Opcode::kNop, Unit::kSync, 0, 5, 10, 0));
  const json trace = json::parse(trace_json(p, test_target(), 0));
  const auto names = thread_names(trace);
  std::set<std::string> nop_threads;
  for (const json& e : events(trace, "X")) {
    if (e.at("name") == "nop") nop_threads.insert(names.at({e.at("pid"), e.at("tid")}));
  }
  EXPECT_EQ(nop_threads, (std::set<std::string>{"sync", "sync #1"}));
}

TEST(TraceJson, VariantOutOfRange) {
  const json trace = json::parse(trace_json(test_program(), test_target(), 3));
  EXPECT_TRUE(trace.at("traceEvents").empty());
  EXPECT_EQ(trace.at("otherData").at("error"), "variant 3 out of range (the program has 1)");
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(SramMap, OneBarPerChipAndPoolWithTitles) {
  const std::string html = sram_map_html(test_program(), test_target());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(html, "<svg class=\"bar\""), 4u);
  EXPECT_EQ(count(html, "<title>blk.0.attn_q.weight\n0x0 .. 0x2000\n8192 bytes"), 2u);
  EXPECT_EQ(count(html, "<title>norm&lt;w&gt;"), 2u);
  EXPECT_EQ(html.find("norm<w>"), std::string::npos);
  EXPECT_NE(html.find("tiny&lt;test&gt;"), std::string::npos);
  EXPECT_EQ(html.find("tiny<test>"), std::string::npos);
  // Bank boundaries: 1 inside "act" (2 banks), 3 inside "weights" (4 banks), per chip.
  EXPECT_EQ(count(html, "class=\"bank\""), 8u);
  EXPECT_NE(html.find("tiled_s8"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // nothing fetched from elsewhere
}

TEST(SramMap, ManyChipsAndTinyEntries) {
  program::Program p = test_program();
  p.meta.chips = 20;
  for (std::uint32_t i = 0; i < 500; ++i) {
    p.layout.push_back(
        entry("scale." + std::to_string(i), 0, kWeights, DataKind::kWeights, 65536 + 16 * i, 16));
  }
  p.layout.push_back(entry("far", 19, kAct, DataKind::kKv, 0, 1024));
  const std::string html = sram_map_html(p, test_target());
  EXPECT_EQ(count(html, "<svg class=\"bar\""), 16u * 2);
  EXPECT_EQ(count(html, "<tr><td class=\"l\">"), 20u * 2);  // the summary has every chip
  EXPECT_NE(html.find("Chips 16 to 19 are in the summary only"), std::string::npos);
  // 500 entries of 16 bytes, 1 px = 953 bytes: merged into a few rectangles.
  EXPECT_NE(html.find(" small entries, "), std::string::npos);
  EXPECT_LT(count(html, "scale."), 100u);
  EXPECT_NE(html.find("scale.0 @0x10000, 16 B, weights"), std::string::npos);
}

}  // namespace
}  // namespace lpu::report
