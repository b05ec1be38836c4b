// Targets: the presets' figures, validation (one case per rule, with the
// exact message), hashing and resolve_target. The JSON form is tested in
// target_json_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include "lib/core/sha256.h"
#include "lib/target/target.h"
#include "tests/testing/test_paths.h"

namespace lpu::target {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

Target preset(const std::string& name) {
  Result<Target> t = target_preset(name);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return t.ok() ? *t : Target{};
}

std::filesystem::path data_file(const std::string& name) {
  return testing::source_dir() / "tests" / "data" / "target" / (name + ".json");
}

TEST(TargetPresetsTest, ListedInOrderWithDescriptions) {
  const auto presets = target_presets();
  ASSERT_EQ(presets.size(), 4u);
  EXPECT_EQ(presets[0].first, "tsp-v1");
  EXPECT_EQ(presets[1].first, "hmp-217");
  EXPECT_EQ(presets[2].first, "cpu-host");
  EXPECT_EQ(presets[3].first, "tiny");
  for (const auto& [name, description] : presets) {
    EXPECT_FALSE(description.empty()) << name;
    EXPECT_EQ(preset(name).name, name);
  }
}

TEST(TargetPresetsTest, EveryPresetValidatesAndRoundTrips) {
  for (const auto& [name, description] : target_presets()) {
    const Target t = preset(name);
    EXPECT_TRUE(validate(t, name).ok()) << validate(t, name).to_string();
    const std::string json = target_to_json(t);
    Result<Target> back = target_from_json(json, name);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_TRUE(*back == t) << name;
    EXPECT_EQ(target_to_json(*back), json) << name;
  }
}

TEST(TargetPresetsTest, UnknownPresetListsThePresets) {
  Result<Target> t = target_preset("tsp-v2");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(t.status().message(),
            "unknown target preset 'tsp-v2' (presets: tsp-v1, hmp-217, cpu-host, tiny)");
}

TEST(TargetPresetsTest, TspV1Figures) {
  const Target t = preset("tsp-v1");
  EXPECT_EQ(t.sram_bytes(), 220 * kMiB);  // 88 slices of 2.5 MiB
  ASSERT_EQ(t.pools.size(), 2u);
  EXPECT_EQ(t.pools[0].capacity_bytes, 200 * kMiB);
  EXPECT_EQ(t.pools[0].bank_bytes(), 20 * kMiB);
  EXPECT_EQ(t.pools[1].capacity_bytes, 20 * kMiB);
  EXPECT_EQ(t.pool_index("text"), 1);
  EXPECT_EQ(t.pool_index("nope"), -1);
  EXPECT_EQ(t.matrix.planes * t.matrix.macs_per_cycle, 409600u);
  EXPECT_EQ(t.vector.ops_per_cycle(), 5120u);
  EXPECT_EQ(t.topology.max_chips(), 10440u);  // 8 x 9 x 145
  EXPECT_EQ(t.default_group(), 320u);
  // Published: 750 TOPS int8 at 900 MHz (2 ops per MAC).
  EXPECT_NEAR(2.0 * 409600 * t.clock_hz / 1e12, 737, 1);
}

TEST(TargetPresetsTest, Hmp217Pools) {
  const Target t = preset("hmp-217");
  ASSERT_EQ(t.pools.size(), 4u);
  EXPECT_EQ(t.pools[0].name, "L0_decode_state");
  EXPECT_EQ(t.pools[0].capacity_bytes, 4'000'000u);
  EXPECT_EQ(t.pools[1].name, "L1_kv_context");
  EXPECT_EQ(t.pools[1].banks, 6u);
  EXPECT_EQ(t.pools[2].name, "L2_weights");
  EXPECT_EQ(t.pools[2].capacity_bytes, 85'000'000u);
  EXPECT_EQ(t.pools[2].banks, t.matrix.planes);
  // The seed's 217 MB (less the 2 bytes that make L1 split into 6 banks),
  // and text fills the chip's 220 MiB exactly.
  EXPECT_EQ(t.pools[0].capacity_bytes + t.pools[1].capacity_bytes + t.pools[2].capacity_bytes,
            217'000'000u - 2);
  EXPECT_EQ(t.sram_bytes(), 220 * kMiB);
  EXPECT_NEAR(static_cast<double>(t.pools[3].capacity_bytes), 13.7e6, 0.1e6);
  EXPECT_EQ(pool_uses_string(t.pools[1].uses), "kv");
}

TEST(TargetPresetsTest, CpuHostAndTiny) {
  const Target cpu = preset("cpu-host");
  EXPECT_EQ(cpu.topology.max_chips(), 1u);
  EXPECT_EQ(cpu.links.count, 0u);
  EXPECT_EQ(pool_uses_string(cpu.pools[1].uses), "activations+kv+weights+instructions");
  const Target tiny = preset("tiny");
  EXPECT_EQ(tiny.sram_bytes(), 64u * 1024);
  EXPECT_EQ(tiny.topology.max_chips(), 256u);
  EXPECT_EQ(pool_uses_string(0), "none");
}

TEST(TargetHashTest, StableAndDistinct) {
  std::set<std::string> hashes;
  for (const auto& [name, description] : target_presets()) {
    const std::string h = target_hash(preset(name));
    EXPECT_EQ(h.size(), 64u);
    EXPECT_EQ(h, target_hash(preset(name)));
    hashes.insert(h);
  }
  EXPECT_EQ(hashes.size(), 4u);
  Target t = preset("tiny");
  const std::string before = target_hash(t);
  t.links.hop_latency_sigma_cycles = 1.5;
  EXPECT_NE(target_hash(t), before);
}

// tests/data/target holds each preset's canonical JSON (the fuzzer's seeds).
// LPU_UPDATE_TARGET_DATA=1 rewrites them after a deliberate preset change.
TEST(TargetHashTest, DataFilesHoldTheCanonicalJson) {
  const bool update = std::getenv("LPU_UPDATE_TARGET_DATA") != nullptr;
  for (const auto& [name, description] : target_presets()) {
    const Target t = preset(name);
    const std::filesystem::path path = data_file(name);
    if (update) std::ofstream(path, std::ios::binary) << target_to_json(t);
    Result<Target> loaded = load_target_file(path.string());
    ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
    EXPECT_TRUE(*loaded == t) << path << " is stale: rerun with LPU_UPDATE_TARGET_DATA=1";
    // Byte-identical, so the file's hash is the target's hash everywhere.
    Result<std::string> file_hash = sha256_file(path.string());
    ASSERT_TRUE(file_hash.ok());
    EXPECT_EQ(*file_hash, target_hash(t)) << path;
  }
}

TEST(ResolveTargetTest, PresetFileAndMissing) {
  Result<Target> p = resolve_target("tiny");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->name, "tiny");

  Target t = preset("tiny");
  t.name = "my-tiny";
  const std::filesystem::path path = testing::temp_dir() / "my-tiny.json";
  std::ofstream(path, std::ios::binary) << target_to_json(t);
  Result<Target> f = resolve_target(path.string());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_TRUE(*f == t);

  Result<Target> m = resolve_target("tsp-v9");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(),
            "target 'tsp-v9': neither a preset (tsp-v1, hmp-217, cpu-host, tiny) nor an existing "
            "file");
}

// One case per validation rule: a mutation of `tiny` and the exact message.
struct ValidateCase {
  const char* test_name;
  std::function<void(Target&)> mutate;
  std::string message;
};

class ValidateTest : public ::testing::TestWithParam<ValidateCase> {};

TEST_P(ValidateTest, RejectsWithExactMessage) {
  Target t = preset("tiny");
  GetParam().mutate(t);
  const Status s = validate(t, "t.json");
  ASSERT_FALSE(s.ok()) << "expected: " << GetParam().message;
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "t.json: " + GetParam().message);
}

const ValidateCase kValidateCases[] = {
    {"EmptyName", [](Target& t) { t.name.clear(); }, "name: '' (expected a non-empty name)"},
    {"ZeroClock", [](Target& t) { t.clock_hz = 0; }, "clock_hz: 0 (expected a finite number > 0)"},
    {"NanClock", [](Target& t) { t.clock_hz = std::nan(""); },
     "clock_hz: nan (expected a finite number > 0)"},
    {"NoPools", [](Target& t) { t.pools.clear(); }, "pools: none (expected at least one pool)"},
    {"TooManyPools", [](Target& t) { t.pools.resize(251, t.pools[0]); },
     "pools: 251 pools (expected at most 250)"},
    {"EmptyPoolName", [](Target& t) { t.pools[2].name.clear(); },
     "pools[2].name: '' (expected a non-empty name)"},
    {"DuplicatePoolName", [](Target& t) { t.pools[1].name = "state"; },
     "pools[1].name: 'state' (expected a unique name; pools[0] has it)"},
    {"ZeroCapacity", [](Target& t) { t.pools[0].capacity_bytes = 0; },
     "pools[0].capacity_bytes: 0 (expected >= 1)"},
    {"HugeCapacity", [](Target& t) { t.pools[0].capacity_bytes = std::uint64_t{1} << 49; },
     "pools[0].capacity_bytes: 562949953421312 (expected at most 2^48 = 281474976710656)"},
    {"ZeroBanks", [](Target& t) { t.pools[1].banks = 0; }, "pools[1].banks: 0 (expected >= 1)"},
    {"BanksNotADivisor", [](Target& t) { t.pools[1].banks = 5; },
     "pools[1].banks: 5 (expected a divisor of capacity_bytes 24576)"},
    {"ZeroReadRate", [](Target& t) { t.pools[0].bank_read_bytes_per_cycle = 0; },
     "pools[0].bank_read_bytes_per_cycle: 0 (expected >= 1)"},
    {"ZeroWriteRate", [](Target& t) { t.pools[2].bank_write_bytes_per_cycle = 0; },
     "pools[2].bank_write_bytes_per_cycle: 0 (expected >= 1)"},
    {"UnknownUseBits", [](Target& t) { t.pools[0].uses |= 1u << 4; },
     "pools[0].uses: 0x13 (expected a set of activations, kv, weights, instructions)"},
    {"NoUses", [](Target& t) { t.pools[2].uses = 0; },
     "pools[2].uses: none (expected at least one of activations, kv, weights, instructions)"},
    {"NoPoolForKv", [](Target& t) { t.pools[0].uses = kUseActivations; },
     "pools: no pool for kv (expected a pool for each use: activations, kv, weights, "
     "instructions)"},
    {"ZeroInstructionBytes", [](Target& t) { t.instruction_bytes = 0; },
     "instruction_bytes: 0 (expected >= 1)"},
    {"ZeroPlanes", [](Target& t) { t.matrix.planes = 0; }, "matrix.planes: 0 (expected >= 1)"},
    {"TileKNotMultipleOf32", [](Target& t) { t.matrix.tile_k = 33; },
     "matrix.tile_k: 33 (expected a multiple of 32 in [32, 65536])"},
    {"TileKZero", [](Target& t) { t.matrix.tile_k = 0; },
     "matrix.tile_k: 0 (expected a multiple of 32 in [32, 65536])"},
    {"TileKTooLarge", [](Target& t) { t.matrix.tile_k = 65568; },
     "matrix.tile_k: 65568 (expected a multiple of 32 in [32, 65536])"},
    {"TileNNotMultipleOf16", [](Target& t) { t.matrix.tile_n = 24; },
     "matrix.tile_n: 24 (expected a multiple of 16 in [16, 65536])"},
    {"NoWeightBuffer", [](Target& t) { t.matrix.weight_buffer_tiles = 0; },
     "matrix.weight_buffer_tiles: 0 (expected >= 1)"},
    {"ZeroWeightLoad", [](Target& t) { t.matrix.weight_load_bytes_per_cycle = 0; },
     "matrix.weight_load_bytes_per_cycle: 0 (expected >= 1)"},
    {"ZeroMacs", [](Target& t) { t.matrix.macs_per_cycle = 0; },
     "matrix.macs_per_cycle: 0 (expected >= 1)"},
    {"ZeroLanes", [](Target& t) { t.vector.lanes = 0; }, "vector.lanes: 0 (expected >= 1)"},
    {"ZeroAlus", [](Target& t) { t.vector.alus_per_lane = 0; },
     "vector.alus_per_lane: 0 (expected >= 1)"},
    {"ZeroSwitch", [](Target& t) { t.switch_unit.bytes_per_cycle = 0; },
     "switch.bytes_per_cycle: 0 (expected >= 1)"},
    {"NoLinksForManyChips", [](Target& t) { t.links.count = 0; },
     "links.count: 0 (expected >= 1 when the topology has several chips)"},
    {"ZeroLinkRate", [](Target& t) { t.links.bytes_per_cycle = 0; },
     "links.bytes_per_cycle: 0 (expected a finite number > 0)"},
    {"NegativeSigma", [](Target& t) { t.links.hop_latency_sigma_cycles = -0.5; },
     "links.hop_latency_sigma_cycles: -0.5 (expected a finite number >= 0)"},
    {"ResyncLongerThanPeriod", [](Target& t) { t.links.resync_cycles = 100000; },
     "links.resync_cycles: 100000 (expected < resync_period_cycles 100000)"},
    {"ZeroChipsPerNode", [](Target& t) { t.topology.chips_per_node = 0; },
     "topology.chips_per_node: 0 (expected >= 1)"},
    {"ZeroNodesPerRack", [](Target& t) { t.topology.nodes_per_rack = 0; },
     "topology.nodes_per_rack: 0 (expected >= 1)"},
    {"ZeroRacks", [](Target& t) { t.topology.max_racks = 0; },
     "topology.max_racks: 0 (expected >= 1)"},
    {"TooManyChips", [](Target& t) { t.topology.max_racks = 1u << 20; },
     "topology: 16 chips per rack x 1048576 racks (expected at most 2^20 = 1048576 chips)"},
    {"UnknownRackNetwork", [](Target& t) { t.topology.rack_network = "torus"; },
     "topology.rack_network: 'torus' (expected none or dragonfly)"},
    {"RacksWithoutNetwork", [](Target& t) { t.topology.rack_network = "none"; },
     "topology.max_racks: 16 (expected 1 when rack_network is 'none')"},
    {"NodeNotFullyConnected", [](Target& t) { t.topology.local_links = 2; },
     "topology.local_links: 2 (expected >= chips_per_node - 1 = 3: a node is fully connected)"},
    {"MoreLocalLinksThanLinks", [](Target& t) { t.topology.local_links = 5; },
     "topology.local_links: 5 (expected <= links.count 4)"},
    {"MoreGlobalLinksThanLeft", [](Target& t) { t.topology.global_links = 2; },
     "topology.global_links: 2 (expected <= links.count - local_links = 1)"},
    {"NoGlobalLinks", [](Target& t) { t.topology.global_links = 0; },
     "topology.global_links: 0 (expected >= 1 when the topology has several nodes)"},
    {"ZeroHostRate", [](Target& t) { t.host.bytes_per_cycle = 0; },
     "host.bytes_per_cycle: 0 (expected a finite number > 0)"},
    {"NegativeMacEnergy", [](Target& t) { t.energy.pj_per_int8_mac = -1; },
     "energy.pj_per_int8_mac: -1 (expected a finite number >= 0)"},
    {"NegativeStaticPower", [](Target& t) { t.energy.static_watts = -2.5; },
     "energy.static_watts: -2.5 (expected a finite number >= 0)"},
    {"UnknownKvType", [](Target& t) { t.default_kv = "f32"; },
     "default_kv: 'f32' (expected int8 or f16)"},
};

INSTANTIATE_TEST_SUITE_P(Rules, ValidateTest, ::testing::ValuesIn(kValidateCases),
                         [](const auto& p) { return std::string(p.param.test_name); });

TEST(ValidateTest, SingleChipNeedsNoLinks) {
  Target t = preset("cpu-host");
  t.links = {};
  EXPECT_TRUE(validate(t, "cpu").ok()) << validate(t, "cpu").to_string();
  t.topology.chips_per_node = 2;
  t.topology.local_links = 1;
  EXPECT_EQ(validate(t, "cpu").message(),
            "cpu: links.count: 0 (expected >= 1 when the topology has several chips)");
}

}  // namespace
}  // namespace lpu::target
