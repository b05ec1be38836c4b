// lpu targets [NAME|FILE] [--json]: lists the built-in targets, or shows one
// target (a preset or a JSON file) as a summary or as its canonical JSON.
#include <cstdio>
#include <memory>
#include <string>

#include "examples/lpu/command.h"
#include "lib/target/target.h"

namespace lpu::cli {
namespace {

struct TargetsOptions {
  std::string target;
  bool json = false;
};

std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string pool_summary(const target::Target& t) {
  std::string s;
  for (const target::Pool& p : t.pools) {
    if (!s.empty()) s += ", ";
    s += p.name + " " + format_bytes(p.capacity_bytes) + " (" + target::pool_uses_string(p.uses) +
         ")";
  }
  return s;
}

void print_list() {
  std::printf("%-10s %-10s %-11s %s\n", "TARGET", "CHIPS/NODE", "SRAM/CHIP", "DESCRIPTION");
  for (const auto& [name, description] : target::target_presets()) {
    Result<target::Target> t = target::target_preset(name);
    if (!t.ok()) continue;  // every listed preset exists
    std::printf("%-10s %-10u %-11s %s\n", name.c_str(), t->topology.chips_per_node,
                format_bytes(t->sram_bytes()).c_str(), description.c_str());
    std::printf("%-10s pools: %s\n", "", pool_summary(*t).c_str());
  }
  std::printf("\n`lpu targets NAME` shows one; `--json` prints it as a target file.\n");
}

void print_pools(const target::Target& t) {
  std::printf("sram:     %s per chip in %zu pools\n", format_bytes(t.sram_bytes()).c_str(),
              t.pools.size());
  for (const target::Pool& p : t.pools) {
    std::printf(
        "  %-16s %11s  %3u bank(s) of %-11s %5u/%-5u B/cycle  latency m%u v%u s%u l%u  %s\n",
        p.name.c_str(), format_bytes(p.capacity_bytes).c_str(), p.banks,
        format_bytes(p.bank_bytes()).c_str(), p.bank_read_bytes_per_cycle,
        p.bank_write_bytes_per_cycle, p.latency[0], p.latency[1], p.latency[2], p.latency[3],
        target::pool_uses_string(p.uses).c_str());
  }
}

void print_summary(const target::Target& t) {
  std::printf("target:   %s: %s\nhash:     %s\n", t.name.c_str(), t.description.c_str(),
              target::target_hash(t).c_str());
  std::printf("clock:    %.0f MHz\n", t.clock_hz / 1e6);
  print_pools(t);
  const target::MatrixUnit& m = t.matrix;
  std::printf(
      "matrix:   %u plane(s), tiles %ux%u (%u buffered), %llu MAC/cycle and %u B/cycle of "
      "weights per plane, latency %u\n",
      m.planes, m.tile_k, m.tile_n, m.weight_buffer_tiles,
      static_cast<unsigned long long>(m.macs_per_cycle), m.weight_load_bytes_per_cycle,
      m.pipeline_latency);
  std::printf("vector:   %u lanes x %u ALUs, latency %u\nswitch:   %u B/cycle, latency %u\n",
              t.vector.lanes, t.vector.alus_per_lane, t.vector.pipeline_latency,
              t.switch_unit.bytes_per_cycle, t.switch_unit.pipeline_latency);
  if (t.links.count == 0) {
    std::printf("links:    none\n");
  } else {
    std::printf(
        "links:    %u x %g B/cycle per direction, hop %u cycles (sigma %g), resync %u "
        "cycles every %llu\n",
        t.links.count, t.links.bytes_per_cycle, t.links.hop_latency_cycles,
        t.links.hop_latency_sigma_cycles, t.links.resync_cycles,
        static_cast<unsigned long long>(t.links.resync_period_cycles));
  }
  const target::Topology& tp = t.topology;
  std::printf(
      "topology: %u chips/node (%u local + %u global links), %u nodes/rack, up to %u "
      "racks (%s): up to %llu chips\n",
      tp.chips_per_node, tp.local_links, tp.global_links, tp.nodes_per_rack, tp.max_racks,
      tp.rack_network.c_str(), static_cast<unsigned long long>(tp.max_chips()));
  std::printf("host:     %g B/cycle, latency %u cycles\n", t.host.bytes_per_cycle,
              t.host.latency_cycles);
  const target::Energy& e = t.energy;
  std::printf(
      "energy:   %g pJ/MAC, %g pJ/SRAM byte, %g pJ/vector op, %g pJ/C2C byte, %g W "
      "static (%s)\n",
      e.pj_per_int8_mac, e.pj_per_sram_byte, e.pj_per_vector_op, e.pj_per_c2c_byte, e.static_watts,
      e.derived.c_str());
  std::printf("instruction: %u B; default KV: %s\n", t.instruction_bytes, t.default_kv.c_str());
}

Status run_targets(const TargetsOptions& o) {
  if (o.target.empty()) {
    if (o.json) return invalid_argument("--json needs a target: lpu targets NAME|FILE --json");
    print_list();
    return {};
  }
  LPU_ASSIGN_OR_RETURN(const target::Target t, target::resolve_target(o.target));
  if (o.json) {
    std::fputs(target::target_to_json(t).c_str(), stdout);
  } else {
    print_summary(t);
  }
  return {};
}

}  // namespace

void add_targets_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<TargetsOptions>();
  CLI::App* cmd = app.add_subcommand("targets", "List the built-in LPU targets, or show one");
  cmd->add_option("target", o->target, "A preset name or a target JSON file");
  cmd->add_flag("--json", o->json, "Print the target as canonical JSON (a target file)");
  cmd->callback([&action, o] { action = [o] { return run_targets(*o); }; });
}

}  // namespace lpu::cli
