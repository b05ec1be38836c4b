// The trace-event JSON of one variant (trace_json.h), written by hand into
// one string rather than through a JSON DOM: a Mixtral variant has about a
// million instructions, and a DOM of that many events takes gigabytes.
//
// make_plan (trace_plan.h) first places every instruction and arrival on a
// thread and numbers the flows; then each chip is written in turn.
#include "lib/report/trace_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

#include "lib/report/text.h"
#include "lib/report/trace_plan.h"

namespace lpu::report {
namespace {

using isa::Instruction;
using isa::Opcode;

// Appends events to the "traceEvents" array.
class Writer {
 public:
  Writer(std::string& out, const Plan& plan) : out_(out), plan_(plan) {}

  // `{"ph":"X","pid":1,"tid":1000,"ts":0.012`; the caller closes the brace.
  void begin(char ph, std::uint32_t pid, std::uint64_t tid, std::int64_t ns) {
    out_ += first_ ? "\n{\"ph\":\"" : ",\n{\"ph\":\"";
    first_ = false;
    out_ += ph;
    out_ += "\",\"pid\":";
    append_uint(out_, pid);
    out_ += ",\"tid\":";
    append_uint(out_, tid);
    out_ += ",\"ts\":";
    us(ns);
  }
  // Microseconds with three decimals: exact for whole nanoseconds.
  void us(std::int64_t ns) {
    const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(0, ns));
    append_uint(out_, v / 1000);
    char frac[5] = {'.', static_cast<char>('0' + v / 100 % 10),
                    static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10), '\0'};
    out_ += frac;
  }
  void dur(std::int64_t start_ns, std::int64_t end_ns) {
    out_ += ",\"dur\":";
    us(end_ns - start_ns);
  }
  // `{"ph":"M","pid":1,"tid":1000,"name":"thread_name","args":{"name":"vector"}}`;
  // `text` null writes `number` instead.
  void meta(const char* name, std::uint32_t pid, std::uint64_t tid, const char* key,
            const std::string* text, std::uint64_t number) {
    out_ += first_ ? "\n{\"ph\":\"M\",\"pid\":" : ",\n{\"ph\":\"M\",\"pid\":";
    first_ = false;
    append_uint(out_, pid);
    out_ += ",\"tid\":";
    append_uint(out_, tid);
    out_ += ",\"name\":\"";
    out_ += name;
    out_ += "\",\"args\":{\"";
    out_ += key;
    out_ += "\":";
    if (text != nullptr) {
      append_json_string(out_, *text);
    } else {
      append_uint(out_, number);
    }
    out_ += "}}";
  }
  std::string& out() { return out_; }
  const Plan& plan() const { return plan_; }

 private:
  std::string& out_;
  const Plan& plan_;
  bool first_ = true;
};

// Names the process and its threads, each with a sort index so that the
// viewer keeps the fixed order instead of sorting by name.
void write_names(Writer& w, std::size_t chip) {
  const Plan& plan = w.plan();
  const ChipPlan& cp = plan.chips[chip];
  const std::uint32_t pid = plan.pid(chip);
  // Process metadata names the first thread, not tid 0, which Perfetto
  // would otherwise show as an extra, empty thread.
  const std::uint64_t first_tid = plan.tid(chip, 0, 0);
  const std::string process = "chip " + std::to_string(chip);
  w.meta("process_name", pid, first_tid, "name", &process, 0);
  w.meta("process_sort_index", pid, first_tid, "sort_index", nullptr, chip);
  for (std::uint32_t k = 0; k < cp.lanes.size(); ++k) {
    for (std::uint32_t lane = 0; lane < cp.lanes[k]; ++lane) {
      std::string name = plan.tracks.name(k);
      if (lane > 0) name += " #" + std::to_string(lane);
      const std::uint64_t tid = plan.tid(chip, k, lane);
      w.meta("thread_name", pid, tid, "name", &name, 0);
      w.meta("thread_sort_index", pid, tid, "sort_index", nullptr, cp.first[k] + lane);
    }
  }
}

// Escaped names, computed once: op names repeat in every instruction.
struct Names {
  std::vector<std::string> ops;    ///< quoted JSON strings
  std::vector<std::string> pools;  ///< escaped, unquoted
  std::string op(std::uint32_t id) const {
    return id < ops.size() ? ops[id] : "\"op#" + std::to_string(id) + "\"";
  }
};

Names names_of(const program::Program& p) {
  Names n;
  for (const auto& op : p.ops) {
    n.ops.emplace_back();
    append_json_string(n.ops.back(), op.name);
  }
  for (const auto& pool : p.pool_names) {
    std::string s;
    append_json_string(s, pool);
    n.pools.push_back(s.substr(1, s.size() - 2));
  }
  return n;
}

// `,"src0":"weights[r1]+0x100:4096"` (the form isa::to_text uses).
void write_operand(std::string& out, const Names& names, const char* key, const isa::Operand& o) {
  if (!o.present()) return;
  out += ",\"";
  out += key;
  out += "\":\"";
  if (o.pool < names.pools.size()) {
    out += names.pools[o.pool];
  } else {
    out += "pool#" + std::to_string(o.pool);
  }
  if (o.index_reg != 0) out += "[r" + std::to_string(o.index_reg) + "]";
  out += '+';
  out += hex(o.offset);
  out += ':';
  append_uint(out, o.bytes);
  out += '"';
}

void write_instruction(Writer& w, const Names& names, std::size_t chip, std::size_t i,
                       const Instruction& in, std::uint64_t& flow) {
  const Plan& plan = w.plan();
  const std::uint32_t track = plan.tracks.of(in);
  const std::uint64_t tid = plan.tid(chip, track, plan.chips[chip].lane[i]);
  const std::int64_t start = plan.ns(in.issue_cycle);
  std::string& out = w.out();
  w.begin(in.duration == 0 ? 'i' : 'X', plan.pid(chip), tid, start);
  if (in.duration == 0) {
    out += ",\"s\":\"t\"";
  } else {
    w.dur(start, plan.ns(in.end_cycle()));
  }
  out += ",\"cat\":\"";
  out += plan.tracks.category(track);
  out += "\",\"name\":\"";
  out += isa::opcode_name(in.op);  // fixed ASCII names ("unknown" if out of range)
  out += "\",\"args\":{\"op\":";
  out += names.op(in.op_id);
  out += ",\"cycle\":";
  append_uint(out, in.issue_cycle);
  out += ",\"duration_cycles\":";
  append_uint(out, in.duration);
  static constexpr const char* kSrc[3] = {"src0", "src1", "src2"};
  for (std::size_t s = 0; s < in.src.size(); ++s) write_operand(out, names, kSrc[s], in.src[s]);
  write_operand(out, names, "dst", in.dst);
  const bool flows = has_flow(in, chip, plan.shown);
  if (in.op == Opcode::kSend || in.op == Opcode::kRecv) {
    out += in.op == Opcode::kSend ? ",\"to_chip\":" : ",\"from_chip\":";
    append_uint(out, in.p[0]);
  }
  out += "}}";
  if (!flows) return;
  // The flow starts on this slice: emitted after it at its start time, so a
  // viewer that binds `s` to the enclosing slice finds this one.
  w.begin('s', plan.pid(chip), tid, start);
  out += ",\"cat\":\"c2c\",\"name\":\"send\",\"id\":";
  append_uint(out, flow++);
  out += '}';
}

void write_arrivals(Writer& w, const Names& names, std::size_t chip) {
  const Plan& plan = w.plan();
  std::string& out = w.out();
  for (const Arrival& a : plan.chips[chip].arrivals) {
    const std::uint64_t tid = plan.tid(chip, plan.tracks.arrivals(), a.lane);
    const std::int64_t start = plan.ns(a.land);
    w.begin('X', plan.pid(chip), tid, start);
    w.dur(start, std::max(plan.ns(a.land + 1), start + 1));
    out += ",\"cat\":\"arrival\",\"name\":\"arrival\",\"args\":{\"op\":";
    out += names.op(a.op_id);
    out += ",\"from_chip\":";
    append_uint(out, a.from);
    out += ",\"link\":";
    append_uint(out, a.link);
    out += ",\"bytes\":";
    append_uint(out, a.bytes);
    out += ",\"send_cycle\":";
    append_uint(out, a.send_cycle);
    out += ",\"land_cycle\":";
    append_uint(out, a.land);
    out += "}}";
    // "bp":"e" binds the end to the enclosing slice: the one just written.
    w.begin('f', plan.pid(chip), tid, start);
    out += ",\"bp\":\"e\",\"cat\":\"c2c\",\"name\":\"send\",\"id\":";
    append_uint(out, a.flow);
    out += '}';
  }
}

// "matrix busy_planes": how many planes compute, where the count changes.
void write_matrix_counter(Writer& w, std::size_t chip) {
  const Plan& plan = w.plan();
  std::string& out = w.out();
  const std::uint64_t tid = plan.tid(chip, 0, 0);
  for (const auto& [cycle, busy] : plan.chips[chip].busy) {
    w.begin('C', plan.pid(chip), tid, plan.ns(cycle));
    out += ",\"name\":\"matrix\",\"args\":{\"busy_planes\":";
    append_uint(out, busy);
    out += "}}";
  }
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

void write_other_data(std::string& out, const program::Program& p, const target::Target& t,
                      const program::Variant& v, const Plan& plan) {
  auto key = [&out](std::string_view k) {
    out += ",\n  ";
    append_json_string(out, k);
    out += ": ";
  };
  auto text = [&](std::string_view k, std::string_view value) {
    key(k);
    append_json_string(out, value);
  };
  auto count = [&](std::string_view k, std::uint64_t value) {
    key(k);
    append_uint(out, value);
  };
  out += "\"otherData\": {\n  \"model\": ";
  append_json_string(out, p.meta.model_name);
  text("target", t.name);
  text("variant", v.name);
  text("variant_kind", v.kind == program::VariantKind::kPrefill ? "prefill" : "decode");
  count("clock_hz", static_cast<std::uint64_t>(std::llround(1e9 / plan.ns_per_cycle)));
  text("scale", "1 cycle = " + number(plan.ns_per_cycle) + " ns");
  text("time_unit", "ts and dur in microseconds, rounded to whole nanoseconds");
  text("pid", "chip + 1 (pid 0 is reserved in Perfetto)");
  count("static_latency_cycles", v.static_latency_cycles);
  count("chips", v.streams.size());
  count("chips_shown", plan.shown);
  count("instructions", plan.total);
  count("instructions_shown", plan.total_shown);
  if (plan.shown < v.streams.size()) {
    text("truncated", "the variant has " + std::to_string(plan.total) +
                          " instructions, over the limit; only chips 0.." +
                          std::to_string(plan.shown - 1) + " of " +
                          std::to_string(v.streams.size()) +
                          " are shown, and sends to later chips have no flow");
  }
  if (!plan.counters) {
    text("matrix_counter", "left out: its " + std::to_string(plan.counter_events) +
                               " events would take the trace over the limit");
  }
  out += "\n}\n}\n";
}

}  // namespace

std::string trace_json(const program::Program& p, const target::Target& t, std::size_t variant,
                       const TraceOptions& options) {
  std::string out = "{\"traceEvents\": [";
  if (variant >= p.variants.size()) {
    out += "],\n\"displayTimeUnit\": \"ns\",\n\"otherData\": {\"error\": ";
    append_json_string(out, "variant " + std::to_string(variant) +
                                " out of range (the program has " +
                                std::to_string(p.variants.size()) + ")");
    out += "}\n}\n";
    return out;
  }
  const program::Variant& v = p.variants[variant];
  const Plan plan = make_plan(p, t, v, options);
  const Names names = names_of(p);
  // Measured on compiled Llama programs: about 270 bytes per instruction
  // event and 90 per counter event. Reserving avoids growing by doubling a
  // string of hundreds of megabytes (a copy, and up to twice the memory).
  out.reserve(plan.total_shown * 280 + plan.counter_events * 90 + 65536);
  Writer w(out, plan);
  for (std::size_t chip = 0; chip < plan.shown; ++chip) {
    write_names(w, chip);
    const auto& stream = v.streams[chip];
    std::uint64_t flow = plan.chips[chip].first_flow;
    for (std::size_t i = 0; i < stream.size(); ++i) {
      write_instruction(w, names, chip, i, stream[i], flow);
    }
    write_arrivals(w, names, chip);
    write_matrix_counter(w, chip);
  }
  out += "\n],\n\"displayTimeUnit\": \"ns\",\n";
  write_other_data(out, p, t, v, plan);
  return out;
}

std::string trace_json(const program::Program& p, const target::Target& t, std::size_t variant) {
  return trace_json(p, t, variant, TraceOptions{});
}

}  // namespace lpu::report
