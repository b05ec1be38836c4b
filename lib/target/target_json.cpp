// Reading a Target from JSON. Strict: every field is required and
// type-checked, unknown and duplicate keys are errors (a typo must not fall
// back to a default), and messages name the source, the JSON path and what
// was expected. nlohmann exceptions stop here and become a Status. The
// writer is target_json_write.cpp; both follow json_schema.h.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/target/json_schema.h"
#include "lib/target/target.h"

namespace lpu::target {
namespace {

using nlohmann::json;

// A target file is a few kilobytes; this bounds what a wrong path can cost.
constexpr std::uintmax_t kMaxFileBytes = 16u << 20;
// Scalars quoted in messages are cut to this length.
constexpr std::size_t kMaxShown = 60;

// Text from the input (keys, the parser's quote of where it stopped) may be
// any bytes; messages stay printable ASCII, other bytes as \xNN.
std::string printable(std::string_view s) {
  std::string out;
  for (const char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (b >= 0x20 && b < 0x7f) {
      out += ch;
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", b);
      out += esc;
    }
  }
  return out;
}

// A value as quoted in a message; containers are not printed (they may be
// arbitrarily large or deep).
std::string describe(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMaxShown) s = s.substr(0, kMaxShown) + "...";
  return s;
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

Status error_at(std::string_view source, const std::string& path, std::string_view what) {
  std::string m(source);
  m.append(": ").append(path.empty() ? "top level" : path).append(": ").append(what);
  return invalid_argument(std::move(m));
}

Status expected(std::string_view source, const std::string& path, const json& v,
                std::string_view what) {
  return error_at(source, path, describe(v) + " (expected " + std::string(what) + ")");
}

// An unsigned integer no larger than `max`; an integral float (128e6) counts.
bool to_unsigned(const json& v, std::uint64_t max, std::uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<std::uint64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!(d >= 0 && d < 18446744073709551616.0 && std::floor(d) == d)) return false;
    out = static_cast<std::uint64_t>(d);
  } else {
    return false;
  }
  return out <= max;
}

// Reads one JSON object: each read() names a key it allows; finish() then
// reports keys nobody read. The first error sticks, so a reader is a list.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string path, std::string_view source)
      : j_(j), path_(std::move(path)), source_(source) {
    if (!j_.is_object()) status_ = expected(source_, path_, j_, "an object");
  }

  void read(const char* key, std::uint32_t& out) {
    std::uint64_t v = 0;
    if (read_unsigned(key, UINT32_MAX, v)) out = static_cast<std::uint32_t>(v);
  }
  void read(const char* key, std::uint64_t& out) { read_unsigned(key, UINT64_MAX, out); }
  void read(const char* key, double& out) {
    const json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_number()) return fail(key, *v, "a number");
    out = v->get<double>();
  }
  void read(const char* key, std::string& out) {
    const json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_string()) return fail(key, *v, "a string");
    out = v->get<std::string>();
  }
  // Reads the table's fields of `s`.
  template <typename S>
  void read_fields(std::span<const schema::Field<S>> fields, S& s) {
    for (const schema::Field<S>& f : fields)
      std::visit([&](auto m) { read(f.key, s.*m); }, f.member);
  }
  // Hands the value at `key` and its path to `fn` (which returns a Status).
  template <typename Fn>
  void read_with(const char* key, Fn&& fn) {
    const json* v = find(key);
    if (v != nullptr) status_ = fn(*v, join_path(path_, key));
  }

  Status finish() const {
    if (!j_.is_object()) return status_;
    for (const auto& [key, value] : j_.items()) {
      bool known = false;
      for (std::string_view k : keys_) known = known || k == key;
      if (known) continue;
      return error_at(source_, join_path(path_, printable(key.substr(0, kMaxShown))),
                      "unknown key (expected one of " + key_list() + ")");
    }
    return status_;
  }

 private:
  // The value at `key` when no error came before; records a missing key.
  const json* find(const char* key) {
    keys_.push_back(key);
    if (!status_.ok()) return nullptr;
    const auto it = j_.find(key);
    if (it == j_.end()) {
      status_ = error_at(source_, join_path(path_, key), "missing");
      return nullptr;
    }
    return &*it;
  }
  bool read_unsigned(const char* key, std::uint64_t max, std::uint64_t& out) {
    const json* v = find(key);
    if (v == nullptr) return false;
    if (to_unsigned(*v, max, out)) return true;
    fail(key, *v, "an integer in [0, " + std::to_string(max) + "]");
    return false;
  }
  void fail(const char* key, const json& v, std::string_view what) {
    status_ = expected(source_, join_path(path_, key), v, what);
  }
  std::string key_list() const {
    std::string s;
    for (std::string_view k : keys_) s.append(s.empty() ? "" : ", ").append(k);
    return s;
  }

  const json& j_;
  std::string path_;
  std::string_view source_;
  std::vector<std::string_view> keys_;
  Status status_;
};

Status read_latency(const json& v, const std::string& path, std::string_view source,
                    std::uint32_t (&latency)[kUnitKinds]) {
  ObjectReader r(v, path, source);
  for (int u = 0; u < kUnitKinds; ++u) r.read(schema::kUnitNames[u], latency[u]);
  return r.finish();
}

Status read_uses(const json& v, const std::string& path, std::string_view source,
                 std::uint32_t& uses) {
  if (!v.is_array()) return expected(source, path, v, std::string("a list of ") + schema::kUseList);
  uses = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    if (!v[i].is_string())
      return expected(source, item_path, v[i], std::string("one of ") + schema::kUseList);
    const std::string& name = v[i].get_ref<const std::string&>();
    std::uint32_t bit = 0;
    for (int b = 0; b < 4; ++b) bit = name == schema::kUseNames[b] ? 1u << b : bit;
    if (bit == 0) {
      return error_at(source, path,
                      "unknown use '" + printable(name.substr(0, kMaxShown)) + "' (expected " +
                          schema::kUseList + ")");
    }
    if ((uses & bit) != 0) return error_at(source, path, "duplicate use '" + name + "'");
    uses |= bit;
  }
  return {};
}

Status read_pool(const json& v, const std::string& path, std::string_view source, Pool& p) {
  ObjectReader r(v, path, source);
  r.read_fields<Pool>(schema::kPoolFields, p);
  r.read_with("latency", [&](const json& lv, const std::string& lp) {
    return read_latency(lv, lp, source, p.latency);
  });
  r.read_with("uses", [&](const json& uv, const std::string& up) {
    return read_uses(uv, up, source, p.uses);
  });
  return r.finish();
}

Status read_pools(const json& v, const std::string& path, std::string_view source,
                  std::vector<Pool>& pools) {
  if (!v.is_array()) return expected(source, path, v, "a list of pools");
  if (v.size() > kMaxPools) {
    return error_at(
        source, path,
        std::to_string(v.size()) + " pools (expected at most " + std::to_string(kMaxPools) + ")");
  }
  pools.assign(v.size(), Pool{});
  for (std::size_t i = 0; i < v.size(); ++i) {
    LPU_TRY(read_pool(v[i], path + "[" + std::to_string(i) + "]", source, pools[i]), "");
  }
  return {};
}

// The reader for a sub-object made only of table fields.
template <typename S>
auto table_reader(std::span<const schema::Field<S>> fields, S& s, std::string_view source) {
  return [fields, &s, source](const json& v, const std::string& path) {
    ObjectReader r(v, path, source);
    r.read_fields(fields, s);
    return r.finish();
  };
}

Status read_target(const json& j, std::string_view source, Target& t) {
  ObjectReader r(j, "", source);
  r.read("name", t.name);
  r.read("description", t.description);
  r.read("clock_hz", t.clock_hz);
  r.read_with("pools", [&](const json& v, const std::string& path) {
    return read_pools(v, path, source, t.pools);
  });
  r.read("instruction_bytes", t.instruction_bytes);
  r.read_with("matrix", table_reader<MatrixUnit>(schema::kMatrixFields, t.matrix, source));
  r.read_with("vector", table_reader<VectorUnit>(schema::kVectorFields, t.vector, source));
  r.read_with("switch", table_reader<SwitchUnit>(schema::kSwitchFields, t.switch_unit, source));
  r.read_with("links", table_reader<Links>(schema::kLinksFields, t.links, source));
  r.read_with("topology", table_reader<Topology>(schema::kTopologyFields, t.topology, source));
  r.read_with("host", table_reader<HostLink>(schema::kHostFields, t.host, source));
  r.read_with("energy", table_reader<Energy>(schema::kEnergyFields, t.energy, source));
  r.read("default_kv", t.default_kv);
  r.read("default_prefill_chunk", t.default_prefill_chunk);
  return r.finish();
}

// nlohmann keeps the last of duplicate keys silently; this parser callback
// remembers the path of the first duplicate instead. It tracks the path of
// the value being parsed: one frame per open object (its current key) or
// array (its current index).
class DuplicateKeyFinder {
 public:
  bool on_event(json::parse_event_t event, const json& parsed) {
    using E = json::parse_event_t;
    switch (event) {
      case E::object_start:
        frames_.push_back({false, 0, {}, {}});
        break;
      case E::array_start:
        frames_.push_back({true, 0, {}, {}});
        break;
      case E::key:
        on_key(parsed.get<std::string>());
        break;
      case E::object_end:
      case E::array_end:
        frames_.pop_back();
        advance();
        break;
      case E::value:
        advance();
        break;
    }
    return true;
  }
  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool array;
    std::size_t index;
    std::string key;
    std::set<std::string> keys;
  };
  void on_key(std::string key) {
    Frame& top = frames_.back();
    if (!top.keys.insert(key).second && duplicate_.empty()) duplicate_ = path_to(key);
    top.key = std::move(key);
  }
  void advance() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  std::string path_to(const std::string& key) const {
    std::string p;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      p = f.array ? p + "[" + std::to_string(f.index) + "]" : join_path(p, f.key);
    }
    return join_path(p, key);
  }

  std::vector<Frame> frames_;
  std::string duplicate_;
};

Result<json> parse_json(std::string_view text, std::string_view source) {
  DuplicateKeyFinder finder;
  json j;
  try {
    j = json::parse(text, [&finder](int, json::parse_event_t e, json& parsed) {
      return finder.on_event(e, parsed);
    });
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string what = e.what();
    if (const auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    return invalid_argument(std::string(source) + ": invalid JSON at byte " +
                            std::to_string(e.byte) + ": " + printable(what));
  }
  if (!finder.duplicate().empty()) {
    return error_at(source, printable(finder.duplicate()), "duplicate key");
  }
  return j;
}

}  // namespace

Result<Target> target_from_json(std::string_view json_text, std::string_view source) {
  try {
    LPU_ASSIGN_OR_RETURN(const json j, parse_json(json_text, source));
    Target t;
    LPU_TRY(read_target(j, source, t), "");
    LPU_TRY(validate(t, source), "");
    return t;
  } catch (const std::bad_alloc&) {
    return resource_exhausted(std::string(source) + ": out of memory reading the target");
  } catch (const std::exception& e) {
    return internal_error(std::string(source) + ": reading the target: " + e.what());
  }
}

Result<Target> load_target_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return not_found(path + ": no such file");
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return not_found(path + ": cannot read: " + ec.message());
  if (size > kMaxFileBytes) {
    return invalid_argument(path + ": " + std::to_string(size) +
                            " bytes (expected a target file of at most 16 MiB)");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return not_found(path + ": cannot read");
  return target_from_json(text, path);
}

}  // namespace lpu::target
