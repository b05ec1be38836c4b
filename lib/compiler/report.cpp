#include "lib/compiler/report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lpu::compiler {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// A table cell: blank for nothing.
std::string mib(std::uint64_t b) { return b == 0 ? "-" : byte_size(b); }

double us(std::uint64_t cycles, double clock) { return static_cast<double>(cycles) / clock * 1e6; }

// Bytes per (chip, pool, kind).
struct Fill {
  std::uint64_t bytes[static_cast<int>(program::DataKind::kDataKindCount)] = {};
  std::uint64_t total() const {
    std::uint64_t s = 0;
    for (std::uint64_t b : bytes) s += b;
    return s;
  }
};

std::map<std::pair<std::uint32_t, std::uint32_t>, Fill> fills(const program::Program& p) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, Fill> out;
  for (const program::LayoutEntry& e : p.layout) {
    out[{e.chip, e.pool}].bytes[static_cast<int>(e.kind)] += e.bytes;
  }
  return out;
}

void placement_table(std::ostringstream& os, const Compiled& c, const target::Target& t) {
  const program::Program& p = c.program;
  const auto f = fills(p);
  os << "placement (" << p.meta.chips << " chips, " << c.stages << " pipeline stage(s) of " << c.tp
     << " chip(s)" << (c.chips_used < p.meta.chips ? ", " + std::to_string(c.chips_used) + " used" : "")
     << "):\n";
  os << "  chip  pool                  weights      kv           activations  instructions  full\n";
  const std::uint32_t chips = p.meta.chips;
  for (std::uint32_t chip = 0; chip < chips; ++chip) {
    if (chips > 12 && chip == 4) {
      os << "  ... (" << chips - 6 << " more chips)\n";
      chip = chips - 2;
    }
    for (std::uint32_t pool = 0; pool < t.pools.size(); ++pool) {
      const auto it = f.find({chip, pool});
      if (it == f.end()) continue;
      const Fill& fl = it->second;
      char line[256];
      std::snprintf(line, sizeof line, "  %4u  %-20s  %-11s  %-11s  %-11s  %-12s  %5.1f%%\n", chip,
                    t.pools[pool].name.c_str(), mib(fl.bytes[0]).c_str(), mib(fl.bytes[1]).c_str(),
                    mib(fl.bytes[2]).c_str(), mib(fl.bytes[3]).c_str(),
                    100.0 * static_cast<double>(fl.total()) / static_cast<double>(t.pools[pool].capacity_bytes));
      os << line;
    }
  }
}

// Per layer: span of its ops and the sum of their bounds.
struct LayerFigures {
  std::uint64_t start = UINT64_MAX, end = 0, bound = 0;
};

std::map<int, LayerFigures> per_layer(const Compiled& c, std::size_t v) {
  std::map<int, LayerFigures> out;
  for (const OpBinding& ob : c.reports[v].ops) {
    LayerFigures& l = out[c.program.ops[ob.op].layer];
    l.start = std::min(l.start, ob.start);
    l.end = std::max(l.end, ob.end);
    l.bound += ob.bound_cycles;
  }
  return out;
}

}  // namespace

std::string byte_size(std::uint64_t b) {
  if (b < 1024) return std::to_string(b) + " B";
  if (b < (1ull << 20)) return fmt("%.1f KiB", static_cast<double>(b) / 1024);
  if (b < (1ull << 30)) return fmt("%.2f MiB", static_cast<double>(b) / (1 << 20));
  return fmt("%.2f GiB", static_cast<double>(b) / (1ull << 30));
}

std::size_t headline_variant(const Compiled& c) {
  std::size_t best = 0;
  for (std::size_t i = 0; i < c.program.variants.size(); ++i) {
    const program::Variant& v = c.program.variants[i];
    if (v.kind == program::VariantKind::kDecode && v.context >= c.program.variants[best].context) best = i;
  }
  return best;
}

std::string report_text(const Compiled& c, const target::Target& t) {
  const program::Program& p = c.program;
  std::ostringstream os;
  os << "model " << p.meta.model_name << " -> target " << t.name << ": G = " << p.meta.group
     << ", KV " << p.meta.kv << ", " << p.meta.slots << " slot(s), compiled in "
     << fmt("%.2f s", c.compile_seconds) << "\n";
  os << "smoothing: ";
  if (p.smoothing.enabled()) {
    os << p.smoothing.method << " alpha " << p.smoothing.alpha << ", calibrated on "
       << p.smoothing.calibration_tokens << " tokens (sha256 " << p.smoothing.calibration_hash.substr(0, 16)
       << "...), folded into the weights at import\n";
  } else {
    os << "none\n";
  }
  os << "rotation: " << (p.rotation.enabled() ? p.rotation.method + " (seed " + std::to_string(p.rotation.seed) +
                                                    "), folded into the weights at import; embedding rows re-encoded"
                                              : std::string("none"))
     << "\n";
  placement_table(os, c, t);
  const std::size_t h = headline_variant(c);
  const program::Variant& v = p.variants[h];
  const VariantReport& r = c.reports[h];
  const double clock = t.clock_hz;
  os << "decode step at the " << v.context << "-token bucket: " << v.static_latency_cycles
     << " cycles = " << fmt("%.2f us", us(v.static_latency_cycles, clock)) << " per token; lower bound "
     << v.lower_bound_cycles << " cycles (critical path " << r.bound.critical_path
     << ", busiest resource " << r.bound.busiest_resource << " = " << r.bound.busiest_name
     << "; partition-free " << r.bound.partition_free << "); ratio "
     << fmt("%.3f", static_cast<double>(v.static_latency_cycles) / std::max<std::uint64_t>(1, v.lower_bound_cycles)) << "\n";
  const std::uint64_t ii = std::max<std::uint64_t>(1, v.initiation_interval_cycles);
  const std::uint64_t in_flight = (v.static_latency_cycles + ii - 1) / ii;
  os << "predicted: " << fmt("%.1f", clock / static_cast<double>(v.static_latency_cycles))
     << " tokens/s per user; " << fmt("%.1f", clock * v.rows / static_cast<double>(ii))
     << " tokens/s for the system with steps overlapped in the pipeline (a step of " << v.rows
     << " row(s) every " << ii << " cycles: " << in_flight << " steps in flight, "
     << in_flight * v.rows << " sequences); energy " << fmt("%.3g J", r.energy_j / v.rows) << " per token\n";
  os << "per layer (cycles, lower bound):";
  int shown = 0;
  for (const auto& [layer, lf] : per_layer(c, h)) {
    if (shown++ >= 6) { os << " ..."; break; }
    os << " " << (layer < 0 ? std::string("io") : "L" + std::to_string(layer)) << " " << lf.end - lf.start << " (" << lf.bound << ")";
  }
  os << "\nutilisation (busy share of the step, all chips):";
  for (const auto& [name, busy] : r.busy) {
    const double units = name == "matrix" || name == "weight_load" ? t.matrix.planes : name == "c2c" ? t.links.count : 1;
    os << " " << name << " " << fmt("%.1f%%", 100.0 * static_cast<double>(busy) /
                                                 (static_cast<double>(v.static_latency_cycles) * units * c.chips_used));
  }
  os << "\nvariants:\n";
  for (std::size_t i = 0; i < p.variants.size(); ++i) {
    const program::Variant& x = p.variants[i];
    os << "  " << x.name << ": " << x.rows << " row(s), " << x.static_latency_cycles << " cycles ("
       << fmt("%.2f us", us(x.static_latency_cycles, clock)) << "), bound " << x.lower_bound_cycles
       << ", ratio " << fmt("%.3f", static_cast<double>(x.static_latency_cycles) / std::max<std::uint64_t>(1, x.lower_bound_cycles));
    if (x.kind == program::VariantKind::kPrefill) {
      os << "; time to first token of a " << x.rows << "-token chunk " << fmt("%.2f us", us(x.static_latency_cycles, clock));
    }
    os << "\n";
  }
  return os.str();
}

std::string explain_text(const Compiled& c, const target::Target& t) {
  const std::size_t h = headline_variant(c);
  std::ostringstream os;
  os << "bottlenecks of " << c.program.variants[h].name << " (per op: the cycles its last result "
        "lands after every earlier op's, the resource busiest for it and its busy cycles on the "
        "busiest chip, and the op's own lower bound):\n";
  int last_layer = -2;
  std::uint64_t done = 0;  // latest landing of the ops before
  for (const OpBinding& ob : c.reports[h].ops) {
    // What the op adds to the step: its last landing past every earlier
    // op's (its own span may start long before, with preloaded weights).
    const std::uint64_t adds = ob.end > done ? ob.end - done : 0;
    done = std::max(done, ob.end);
    const program::OpRecord& op = c.program.ops[ob.op];
    if (op.layer != last_layer) {
      os << (op.layer < 0 ? "io" : "layer " + std::to_string(op.layer)) << ":\n";
      last_layer = op.layer;
    }
    char line[256];
    std::snprintf(line, sizeof line, "  %-28s %-11s +%8llu cycles  bound by %-11s busy %8llu  own bound %8llu (%s)\n",
                  op.name.c_str(), op.kind.c_str(), static_cast<unsigned long long>(adds),
                  ob.resource.c_str(), static_cast<unsigned long long>(ob.busy_cycles),
                  static_cast<unsigned long long>(ob.bound_cycles), ob.bound_resource.c_str());
    os << line;
  }
  (void)t;
  return os.str();
}

std::string report_json(const Compiled& c, const target::Target& t) {
  using nlohmann::json;
  const program::Program& p = c.program;
  const double clock = t.clock_hz;
  auto variant_json = [&](std::size_t i) {
    const program::Variant& v = p.variants[i];
    const VariantReport& r = c.reports[i];
    json j;
    j["name"] = v.name;
    j["kind"] = v.kind == program::VariantKind::kDecode ? "decode" : "prefill";
    j["context"] = v.context;
    j["rows"] = v.rows;
    j["static_latency_cycles"] = v.static_latency_cycles;
    j["static_latency_us"] = us(v.static_latency_cycles, clock);
    j["lower_bound_cycles"] = v.lower_bound_cycles;
    j["critical_path_cycles"] = r.bound.critical_path;
    j["busiest_resource_cycles"] = r.bound.busiest_resource;
    j["busiest_resource"] = r.bound.busiest_name;
    j["partition_free_bound_cycles"] = r.bound.partition_free;
    j["initiation_interval_cycles"] = v.initiation_interval_cycles;
    // Steps of other sequences that fit in the pipeline at once.
    j["steps_in_flight"] = (v.static_latency_cycles + std::max<std::uint64_t>(1, v.initiation_interval_cycles) - 1) /
                           std::max<std::uint64_t>(1, v.initiation_interval_cycles);
    j["predicted_tokens_per_s"] = clock / static_cast<double>(v.static_latency_cycles) *
                                  (v.kind == program::VariantKind::kPrefill ? v.rows : 1);
    j["predicted_tokens_per_s_system"] =
        clock * v.rows / static_cast<double>(std::max<std::uint64_t>(1, v.initiation_interval_cycles));
    j["energy_per_token_j"] = r.energy_j / v.rows;
    std::size_t n = 0;
    for (const auto& s : v.streams) n += s.size();
    j["instructions"] = n;
    return j;
  };
  const std::size_t h = headline_variant(c);
  json out = variant_json(h);
  out.erase("name");
  out["variant"] = p.variants[h].name;
  out["model"] = p.meta.model_name;
  out["target"] = t.name;
  out["group"] = p.meta.group;
  out["kv"] = p.meta.kv;
  out["slots"] = p.meta.slots;
  out["chips"] = p.meta.chips;
  out["chips_used"] = c.chips_used;
  out["tensor_parallel"] = c.tp;
  out["pipeline_stages"] = c.stages;
  out["compile_seconds"] = c.compile_seconds;
  out["model_hash"] = p.meta.model_hash;
  out["target_hash"] = p.meta.target_hash;
  json placement = json::array();
  for (const auto& [key, fl] : fills(p)) {
    json e;
    e["chip"] = key.first;
    e["pool"] = t.pools[key.second].name;
    e["weights_bytes"] = fl.bytes[0];
    e["kv_bytes"] = fl.bytes[1];
    e["activation_bytes"] = fl.bytes[2];
    e["instruction_bytes"] = fl.bytes[3];
    e["capacity_bytes"] = t.pools[key.second].capacity_bytes;
    placement.push_back(e);
  }
  out["placement"] = placement;
  json variants = json::array();
  for (std::size_t i = 0; i < p.variants.size(); ++i) variants.push_back(variant_json(i));
  out["variants"] = variants;
  return out.dump(2);
}

}  // namespace lpu::compiler
