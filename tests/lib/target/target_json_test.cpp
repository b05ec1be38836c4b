// The JSON form of a target: one malformed document per failure mode, each
// with the message it must give (source, JSON path, what was expected).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/target/target.h"
#include "tests/testing/test_paths.h"

namespace lpu::target {
namespace {

using nlohmann::ordered_json;

ordered_json tiny_json() {
  Result<Target> t = target_preset("tiny");
  EXPECT_TRUE(t.ok());
  return ordered_json::parse(target_to_json(*t));
}

// Parses `text` as "t.json" and returns the error message ("" on success).
std::string error_of_text(std::string_view text) {
  Result<Target> t = target_from_json(text, "t.json");
  return t.ok() ? std::string() : t.status().message();
}

struct JsonCase {
  const char* test_name;
  std::function<void(ordered_json&)> edit;
  std::string message;
};

class TargetJsonErrorTest : public ::testing::TestWithParam<JsonCase> {};

TEST_P(TargetJsonErrorTest, ExactMessage) {
  ordered_json j = tiny_json();
  GetParam().edit(j);
  Result<Target> t = target_from_json(j.dump(), "t.json");
  ASSERT_FALSE(t.ok()) << "expected: " << GetParam().message;
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), "t.json: " + GetParam().message);
}

const JsonCase kJsonCases[] = {
    {"RootNotAnObject", [](ordered_json& j) { j = ordered_json::array({1}); },
     "top level: an array (expected an object)"},
    {"UnknownTopLevelKey", [](ordered_json& j) { j["clock"] = 1; },
     "clock: unknown key (expected one of name, description, clock_hz, pools, "
     "instruction_bytes, matrix, vector, switch, links, topology, host, energy, default_kv, "
     "default_prefill_chunk)"},
    {"MisspelledNestedKey",
     [](ordered_json& j) {
       j["matrix"]["tile_kk"] = j["matrix"]["tile_k"];
       j["matrix"].erase("tile_k");
     },
     "matrix.tile_kk: unknown key (expected one of planes, tile_k, tile_n, weight_buffer_tiles, "
     "weight_load_bytes_per_cycle, macs_per_cycle, pipeline_latency)"},
    {"MissingPoolField", [](ordered_json& j) { j["pools"][1].erase("banks"); },
     "pools[1].banks: missing"},
    {"MissingSection", [](ordered_json& j) { j.erase("energy"); }, "energy: missing"},
    {"MissingLatency", [](ordered_json& j) { j["pools"][0]["latency"].erase("link"); },
     "pools[0].latency.link: missing"},
    {"LatencyNotAnObject",
     [](ordered_json& j) {
       j["pools"][0]["latency"] = {1, 2, 3, 4};
     },
     "pools[0].latency: an array (expected an object)"},
    {"StringForInteger", [](ordered_json& j) { j["matrix"]["tile_k"] = "32"; },
     "matrix.tile_k: \"32\" (expected an integer in [0, 4294967295])"},
    {"IntegerTooLarge", [](ordered_json& j) { j["matrix"]["tile_k"] = 4294967296ull; },
     "matrix.tile_k: 4294967296 (expected an integer in [0, 4294967295])"},
    {"NegativeInteger", [](ordered_json& j) { j["pools"][0]["capacity_bytes"] = -1; },
     "pools[0].capacity_bytes: -1 (expected an integer in [0, 18446744073709551615])"},
    {"FractionalInteger", [](ordered_json& j) { j["vector"]["lanes"] = 32.5; },
     "vector.lanes: 32.5 (expected an integer in [0, 4294967295])"},
    {"BoolForInteger", [](ordered_json& j) { j["instruction_bytes"] = true; },
     "instruction_bytes: true (expected an integer in [0, 4294967295])"},
    {"StringForNumber", [](ordered_json& j) { j["clock_hz"] = "fast"; },
     "clock_hz: \"fast\" (expected a number)"},
    {"NumberForString", [](ordered_json& j) { j["name"] = 3; }, "name: 3 (expected a string)"},
    {"NullForString", [](ordered_json& j) { j["default_kv"] = nullptr; },
     "default_kv: null (expected a string)"},
    {"PoolsNotAList", [](ordered_json& j) { j["pools"] = ordered_json::object(); },
     "pools: an object (expected a list of pools)"},
    {"PoolNotAnObject", [](ordered_json& j) { j["pools"][0] = 1; },
     "pools[0]: 1 (expected an object)"},
    {"TooManyPools",
     [](ordered_json& j) {
       while (j["pools"].size() <= kMaxPools) j["pools"].push_back(j["pools"][0]);
     },
     "pools: 251 pools (expected at most 250)"},
    {"UnknownUse",
     [](ordered_json& j) {
       j["pools"][0]["uses"] = {"activations", "cache"};
     },
     "pools[0].uses: unknown use 'cache' (expected activations, kv, weights, instructions)"},
    {"DuplicateUse",
     [](ordered_json& j) {
       j["pools"][0]["uses"] = {"kv", "kv"};
     },
     "pools[0].uses: duplicate use 'kv'"},
    {"UsesNotAList", [](ordered_json& j) { j["pools"][0]["uses"] = "kv"; },
     "pools[0].uses: \"kv\" (expected a list of activations, kv, weights, instructions)"},
    {"UseNotAString",
     [](ordered_json& j) {
       j["pools"][0]["uses"] = {"kv", 3};
     },
     "pools[0].uses[1]: 3 (expected one of activations, kv, weights, instructions)"},
    {"LongValueIsCut", [](ordered_json& j) { j["clock_hz"] = std::string(100, 'x'); },
     "clock_hz: \"" + std::string(59, 'x') + "... (expected a number)"},
    // Read correctly, then refused by validate() with the same source.
    {"TileKFromJson", [](ordered_json& j) { j["matrix"]["tile_k"] = 33; },
     "matrix.tile_k: 33 (expected a multiple of 32 in [32, 65536])"},
    {"BanksFromJson", [](ordered_json& j) { j["pools"][1]["banks"] = 0; },
     "pools[1].banks: 0 (expected >= 1)"},
};

INSTANTIATE_TEST_SUITE_P(Cases, TargetJsonErrorTest, ::testing::ValuesIn(kJsonCases),
                         [](const auto& p) { return std::string(p.param.test_name); });

TEST(TargetJsonTest, IntegersMayUseExponentForm) {
  ordered_json j = tiny_json();
  j["pools"][0]["capacity_bytes"] = 2.8672e4;
  j["clock_hz"] = 1000000000;  // an integer where a double is read
  Result<Target> t = target_from_json(j.dump(), "t.json");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_TRUE(*t == *target_preset("tiny"));
}

TEST(TargetJsonTest, DuplicateKeysAreErrors) {
  const std::string json = target_to_json(*target_preset("tiny"));
  std::string top = json;
  top.insert(top.find("\"name\""), "\"name\": \"x\", ");
  EXPECT_EQ(error_of_text(top), "t.json: name: duplicate key");
  // pools[2] is the only pool with one bank.
  std::string nested = json;
  const std::string banks = "\"banks\": 1,";
  ASSERT_NE(nested.find(banks), std::string::npos);
  nested.insert(nested.find(banks), banks);
  EXPECT_EQ(error_of_text(nested), "t.json: pools[2].banks: duplicate key");
  EXPECT_EQ(error_of_text(R"({"a": [[{}, {"x": 1, "x": 2}]]})"),
            "t.json: a[0][1].x: duplicate key");
}

TEST(TargetJsonTest, ParseErrorsNameTheByte) {
  EXPECT_EQ(error_of_text("{\"name\": }"),
            "t.json: invalid JSON at byte 10: parse error at line 1, column 10: syntax error while "
            "parsing value - unexpected '}'; expected '[', '{', or a literal");
  const std::string json = target_to_json(*target_preset("tiny"));
  const std::string truncated = error_of_text(json.substr(0, 200));
  EXPECT_EQ(truncated.rfind("t.json: invalid JSON at byte 201: ", 0), 0u) << truncated;
  EXPECT_NE(error_of_text("").find("t.json: invalid JSON at byte "), std::string::npos);
  // The bytes the parser quotes come back escaped.
  EXPECT_NE(
      error_of_text("{\"name\": \"\xff\"}").find("ill-formed UTF-8 byte; last read: '\"\\xff'"),
      std::string::npos);
  EXPECT_NE(error_of_text(std::string(100000, '[')).find("invalid JSON"), std::string::npos);
}

TEST(TargetJsonTest, CanonicalOutput) {
  const Target t = *target_preset("tiny");
  const std::string json = target_to_json(t);
  EXPECT_EQ(json.rfind("{\n  \"name\": \"tiny\",\n  \"description\": ", 0), 0u);
  EXPECT_EQ(json.back(), '\n');
  // Key order is the struct's, whatever order the input had.
  ordered_json j = ordered_json::parse(json);
  ordered_json reversed = ordered_json::object();
  for (auto it = j.rbegin(); it != j.rend(); ++it) reversed[it.key()] = it.value();
  Result<Target> back = target_from_json(reversed.dump(), "r.json");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(target_to_json(*back), json);
}

TEST(TargetJsonTest, LoadTargetFile) {
  const std::filesystem::path dir = testing::temp_dir();
  Result<Target> missing = load_target_file((dir / "nope.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), (dir / "nope.json").string() + ": no such file");
  EXPECT_EQ(load_target_file(dir.string()).status().code(), StatusCode::kNotFound);

  const std::filesystem::path bad = dir / "bad.json";
  std::ofstream(bad) << "{\"name\": 1}";
  EXPECT_EQ(load_target_file(bad.string()).status().message(),
            bad.string() + ": name: 1 (expected a string)");
}

}  // namespace
}  // namespace lpu::target
