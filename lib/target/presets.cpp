// The built-in targets. Every figure says where it comes from: "§n" is a
// section of lpu-target.md (shared/design/, beside the clone), which cites
// the primary sources: ISCA'20 = Abts et al., "Think Fast: A Tensor
// Streaming Processor"; ISCA'22 = Abts et al., "A Software-defined Tensor
// Streaming Multiprocessor"; the GroqChip product brief (via the ALCF guide).
// "Derived" figures are computed from published ones (the arithmetic is
// given); "modelling choice" marks figures no source gives.
#include <string>
#include <string_view>

#include "lib/target/target.h"

namespace lpu::target {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kGiB = 1024 * kMiB;
// One TSP MEM slice: 20 tiles x 2 banks x 4096 words x 16 B = 2.5 MiB (§1,
// "MEM layout", ISCA'20).
constexpr std::uint64_t kSliceBytes = 20 * 2 * 4096 * 16;
// A slice reads one 320-B vector and writes one per cycle (§1, §3 "MEM per
// slice"); a bank of 8 slices streams 8 x 320 B each way.
constexpr std::uint32_t kVectorBytes = 320;

Pool pool(std::string name, std::uint64_t bytes, std::uint32_t banks, std::uint32_t rate,
          std::uint32_t matrix, std::uint32_t vector, std::uint32_t sw, std::uint32_t link,
          std::uint32_t uses) {
  Pool p;
  p.name = std::move(name);
  p.capacity_bytes = bytes;
  p.banks = banks;
  p.bank_read_bytes_per_cycle = rate;
  p.bank_write_bytes_per_cycle = rate;
  p.latency[static_cast<int>(UnitKind::kMatrix)] = matrix;
  p.latency[static_cast<int>(UnitKind::kVector)] = vector;
  p.latency[static_cast<int>(UnitKind::kSwitch)] = sw;
  p.latency[static_cast<int>(UnitKind::kLink)] = link;
  p.uses = uses;
  return p;
}

// tsp-v1's chip: everything but the pools (shared with hmp-217).
void tsp_v1_units(Target& t) {
  t.clock_hz = 900e6;  // §1 "Clock": 900 MHz nominal (ISCA'20)
  // §3 "Instruction fetch": 144 queues x 16 B per cycle, so 16 B per
  // instruction (derived).
  t.instruction_bytes = 16;
  // §1 "MXM": 4 planes of 320 x 320 int8 MACs = 409,600 MAC/cycle (ISCA'20).
  t.matrix.planes = 4;
  t.matrix.tile_k = 320;
  t.matrix.tile_n = 320;
  // One tile computing while the next loads (ISCA'20's LW/IW install weights
  // from a buffer; two tiles deep is a modelling choice).
  t.matrix.weight_buffer_tiles = 2;
  // §3 "Weight load into MXM": 409,600 B into 4 planes in < 40 cycles is
  // >= 10,240 B/cycle, 2,560 per plane (derived).
  t.matrix.weight_load_bytes_per_cycle = 2560;
  t.matrix.macs_per_cycle = 320 * 320;  // per plane: 409,600 / 4
  t.matrix.pipeline_latency = 20;       // modelling choice (not published)
  // §1 "Lanes, vector" and "VXM": 320 lanes x 16 ALUs = 5,120 ALUs.
  t.vector.lanes = 320;
  t.vector.alus_per_lane = 16;
  t.vector.pipeline_latency = 8;  // modelling choice
  // §1 "SXM": shifts and permutes of whole vectors; one 320-B vector per
  // cycle and 4 cycles of latency are modelling choices.
  t.switch_unit.bytes_per_cycle = kVectorBytes;
  t.switch_unit.pipeline_latency = 4;
}

// tsp-v1's links, topology, host link and energy (shared with hmp-217).
void tsp_v1_system(Target& t) {
  // §1 "C2C" (ISCA'20, Linley): 16 links of ~15 GB/s per direction;
  // §3: 15 GB/s / 900 MHz = 16.7 B/cycle (derived).
  t.links.count = 16;
  t.links.bytes_per_cycle = 16.7;
  // §1 "Chip sync" (ISCA'22): hop latency ~216 cycles, sigma 2.6-2.9 cycles
  // (the upper end taken).
  t.links.hop_latency_cycles = 216;
  t.links.hop_latency_sigma_cycles = 2.9;
  // ISCA'22 resynchronises periodically but gives no period or cost: one
  // resync per 1,000,000 cycles (~1.1 ms) costing 64 cycles is a modelling
  // choice.
  t.links.resync_period_cycles = 1'000'000;
  t.links.resync_cycles = 64;
  // §1 "Topology" (ISCA'22): 8 fully connected TSPs per node (7 local links)
  // + 4 global links each; 9 nodes per rack; dragonfly of up to 145 racks.
  t.topology = {.chips_per_node = 8,
                .local_links = 7,
                .global_links = 4,
                .nodes_per_rack = 9,
                .max_racks = 145,
                .rack_network = "dragonfly",
                // Minimal dragonfly routes: node to node in a rack over a
                // global link and a local one (2); rack to rack local-global-
                // local (3) (derived from the routing, not published).
                .hops_within_rack = 2,
                .hops_between_racks = 3};
  // §1 "Card": PCIe Gen4 x16 = 16 GT/s x 16 x 128/130 / 8 ~ 31.5 GB/s per
  // direction; / 900 MHz = 35 B/cycle (derived). ~1 us of latency for a
  // PCIe round trip = 900 cycles (derived from a typical figure, not
  // published for the card).
  t.host = {.bytes_per_cycle = 35.0, .latency_cycles = 900};
  // §1 "Power": 185 W average, 215 W TDP. Assumed: 50 W static (modelling
  // choice: leakage and clocks of a 14 nm die, ~23 % of TDP), so 165 W
  // dynamic at full load. C2C at 5 pJ/bit (a typical 30 Gb/s SerDes figure,
  // modelling choice) = 40 pJ/B: 16 x 16.7 B x 2 directions x 900 MHz =
  // 481 GB/s -> 19.2 W. The other 145.8 W split 60/30/10 (modelling choice)
  // at the peak rates: 409,600 MAC x 900 MHz = 368.6 TMAC/s -> 0.24 pJ/MAC;
  // SRAM 56,320 B x 900 MHz = 50.7 TB/s (§3) -> 0.86 pJ/B; VXM 5,120 ops x
  // 900 MHz = 4.6 Tops -> 3.2 pJ/op. Check: 88.5 + 43.6 + 14.7 + 19.2 + 50
  // = 216 W ~ TDP; the 185 W average is then ~82 % of full dynamic power.
  t.energy = {.pj_per_int8_mac = 0.24,
              .pj_per_sram_byte = 0.86,
              .pj_per_vector_op = 3.2,
              .pj_per_c2c_byte = 40.0,
              .static_watts = 50.0,
              .derived =
                  "all derived: 215 W TDP (GroqChip brief v1.7) less an assumed 50 W static and "
                  "19.2 W of C2C at an assumed 5 pJ/bit, split 60/30/10 over MACs, SRAM and VXM "
                  "at peak rates"};
  t.default_kv = "int8";
}

Target tsp_v1() {
  Target t;
  t.name = "tsp-v1";
  t.description = "GroqChip TSP v1 (ISCA'20/'22): 220 MiB SRAM, 4 x 320x320 MXM, 900 MHz";
  // §1 "SRAM" and "MEM layout": 88 slices of 2.5 MiB = 220 MiB, one flat
  // level; program text also lives in MEM slices (GroqFlow
  // --extraInstMemSlices). Giving text 8 slices is a modelling choice; a bank
  // here is 8 slices (modelling choice), so "mem" has 10.
  // Latencies by distance (one stream-register hop per cycle, §2): a slice
  // is on average ~22 hops from the VXM (44 slices per hemisphere); the
  // other units' 24/20/24 are modelling choices around that mean.
  constexpr std::uint32_t kBank = 8 * kVectorBytes;
  t.pools.push_back(pool("mem", 80 * kSliceBytes, 10, kBank, 24, 22, 20, 24,
                         kUseActivations | kUseKv | kUseWeights));
  t.pools.push_back(pool("text", 8 * kSliceBytes, 1, kBank, 24, 22, 20, 24, kUseInstructions));
  tsp_v1_units(t);
  tsp_v1_system(t);
  return t;
}

Target hmp_217() {
  Target t = tsp_v1();
  t.name = "hmp-217";
  t.description = "tsp-v1 with the seed's tiers: 4 MB decode state, 128 MB KV, 85 MB weights";
  // §4 "hmp-217" (the seed's split, unconfirmed, §5): tiers are slice ranges
  // placed by distance, so each gets tsp-v1's 2,560 B/cycle banks of 8
  // slices (L0, 4 MB ~ 1.5 slices, gets 2 slices' 640 B/cycle). Latencies
  // are modelling choices: L0 sits next to the VXM, L2 next to the MXMs.
  constexpr std::uint32_t kBank = 8 * kVectorBytes;
  // L1: 128e6 B would not split into 6 banks (128e6 / 6 is not whole);
  // rounded down by 2 bytes to 6 x 21,333,333.
  constexpr std::uint64_t kL1 = 6 * 21'333'333;
  // Text: what the seed's 217 MB leaves of the 220 MiB (§5: ~13.7 MB),
  // computed exactly so the chip totals 220 MiB.
  constexpr std::uint64_t kText = 88 * kSliceBytes - 4'000'000 - kL1 - 85'000'000;
  t.pools = {
      pool("L0_decode_state", 4'000'000, 1, 2 * kVectorBytes, 40, 4, 6, 40, kUseActivations),
      pool("L1_kv_context", kL1, 6, kBank, 22, 22, 20, 24, kUseKv),
      // One bank per MXM plane.
      pool("L2_weights", 85'000'000, 4, kBank, 4, 40, 38, 40, kUseWeights),
      pool("text", kText, 1, kBank, 24, 22, 20, 24, kUseInstructions),
  };
  return t;
}

Target cpu_host() {
  Target t;
  t.name = "cpu-host";
  t.description = "this host as one chip: 2 MiB cache + 64 GiB DRAM, 2 cores of int8 VNNI";
  t.clock_hz = 3e9;  // nominal; a modelling choice for a 2-core cloud VM
  // Cache: an L2-sized working set (modelling choice), one 64-B line per
  // cycle each way. DRAM: ~40 GB/s = 14 B/cycle at 3 GHz; the read probe
  // measures 26-55 GB/s on these machines. Latencies are modelling choices.
  t.pools.push_back(pool("cache", 2 * kMiB, 1, 64, 4, 4, 4, 4, kUseActivations));
  t.pools.push_back(pool("dram", 64 * kGiB, 1, 14, 60, 60, 60, 60,
                         kUseActivations | kUseKv | kUseWeights | kUseInstructions));
  // The host runs the Program file's instruction records as they are.
  t.instruction_bytes = 104;
  // ~930 GOP/s of int8 VNNI on 2 cores at 3 GHz = 465 GMAC/s = 155
  // MAC/cycle (measured order of magnitude); tiles of 256 x 16 suit the
  // 16-column VNNI kernels; weights stream at DRAM speed.
  t.matrix = {.planes = 1,
              .tile_k = 256,
              .tile_n = 16,
              .weight_buffer_tiles = 2,
              .weight_load_bytes_per_cycle = 14,
              .macs_per_cycle = 155,
              .pipeline_latency = 10};
  // 16 fp32 lanes (AVX-512) x 2 ports; latencies are modelling choices.
  t.vector = {.lanes = 16, .alus_per_lane = 2, .pipeline_latency = 4};
  t.switch_unit = {.bytes_per_cycle = 32, .pipeline_latency = 1};
  // One chip, no links.
  t.links = {};
  t.topology = {.chips_per_node = 1,
                .local_links = 0,
                .global_links = 0,
                .nodes_per_rack = 1,
                .max_racks = 1,
                .rack_network = "none",
                .hops_within_rack = 0,
                .hops_between_racks = 0};
  // The "host link" is the host itself: a cache line per cycle, no latency.
  t.host = {.bytes_per_cycle = 64, .latency_cycles = 0};
  // A ~100 W share of a server socket (modelling choice): 40 W static, 60 W
  // dynamic at full load. DRAM at ~20 pJ/bit = 160 pJ/B (typical DDR4
  // access + I/O, modelling choice) x 42 GB/s = 6.7 W; the other 53.3 W
  // split 80/20: 42.7 W / 465 GMAC/s = 92 pJ/MAC; 10.7 W / (32 x 3 GHz) =
  // 110 pJ/op.
  t.energy = {.pj_per_int8_mac = 92,
              .pj_per_sram_byte = 160,
              .pj_per_vector_op = 110,
              .pj_per_c2c_byte = 0,
              .static_watts = 40,
              .derived =
                  "all derived from an assumed ~100 W server socket share (40 W static) "
                  "and a typical 20 pJ/bit for DRAM"};
  t.default_kv = "int8";
  // Measured (SmolLM2, 256-token prompts, 2 threads): 128-row chunks read
  // each weight panel from memory half as often as 64-row ones and
  // prefill ~8% faster; 256 rows lose it again in attention.
  t.default_prefill_chunk = 128;
  return t;
}

// Small enough that tests run multi-chip placement on toy models; every
// figure is invented.
Target tiny() {
  Target t;
  t.name = "tiny";
  t.description = "test target: 64 KiB per chip, 4 chips per node, up to 256 chips";
  t.clock_hz = 1e9;
  t.pools.push_back(pool("state", 28 * 1024, 2, 64, 4, 2, 3, 6, kUseActivations | kUseKv));
  t.pools.push_back(pool("weights", 24 * 1024, 2, 64, 2, 4, 4, 6, kUseWeights));
  t.pools.push_back(pool("text", 12 * 1024, 1, 64, 4, 4, 4, 6, kUseInstructions));
  t.instruction_bytes = 16;
  t.matrix = {.planes = 1,
              .tile_k = 32,
              .tile_n = 32,
              .weight_buffer_tiles = 2,
              .weight_load_bytes_per_cycle = 64,
              .macs_per_cycle = 1024,
              .pipeline_latency = 4};
  t.vector = {.lanes = 32, .alus_per_lane = 4, .pipeline_latency = 2};
  t.switch_unit = {.bytes_per_cycle = 32, .pipeline_latency = 1};
  t.links = {.count = 4,
             .bytes_per_cycle = 16,
             .hop_latency_cycles = 20,
             .hop_latency_sigma_cycles = 1,
             .resync_period_cycles = 100'000,
             .resync_cycles = 8};
  t.topology = {.chips_per_node = 4,
                .local_links = 3,
                .global_links = 1,
                .nodes_per_rack = 4,
                .max_racks = 16,
                .rack_network = "dragonfly",
                .hops_within_rack = 2,
                .hops_between_racks = 3};
  t.host = {.bytes_per_cycle = 16, .latency_cycles = 100};
  t.energy = {.pj_per_int8_mac = 1,
              .pj_per_sram_byte = 1,
              .pj_per_vector_op = 1,
              .pj_per_c2c_byte = 10,
              .static_watts = 1,
              .derived = "all invented for tests"};
  t.default_kv = "int8";
  return t;
}

struct Preset {
  const char* name;
  Target (*make)();
};
constexpr Preset kPresets[] = {
    {"tsp-v1", tsp_v1}, {"hmp-217", hmp_217}, {"cpu-host", cpu_host}, {"tiny", tiny}};

}  // namespace

Result<Target> target_preset(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (name == p.name) return p.make();
  }
  std::string names;
  for (const Preset& p : kPresets) names += names.empty() ? p.name : std::string(", ") + p.name;
  return not_found("unknown target preset '" + std::string(name) + "' (presets: " + names + ")");
}

std::vector<std::pair<std::string, std::string>> target_presets() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Preset& p : kPresets) out.emplace_back(p.name, p.make().description);
  return out;
}

}  // namespace lpu::target
