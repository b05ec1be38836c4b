// Writing the canonical JSON form of a Target: the struct's field order,
// shortest round-trip doubles, short flat containers on one line. Its
// bytes are what target_hash hashes, so any change here changes every hash.
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/target/json_schema.h"
#include "lib/target/target.h"

namespace lpu::target {
namespace {

using nlohmann::ordered_json;

template <typename S>
ordered_json write_fields(std::span<const schema::Field<S>> fields, const S& s) {
  ordered_json o = ordered_json::object();
  for (const schema::Field<S>& f : fields) std::visit([&](auto m) { o[f.key] = s.*m; }, f.member);
  return o;
}

// Pretty-prints like dump(2), except that a container holding only
// scalars goes on one line when short ("latency": {"matrix": 4, ...}).
void write_text(const ordered_json& v, int indent, std::string& out) {
  constexpr std::size_t kInlineWidth = 72;
  const auto scalar = [](const ordered_json& x) {
    return x.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  };
  if (!v.is_structured()) {
    out += scalar(v);
    return;
  }
  const bool object = v.is_object();
  bool flat = true;
  for (const auto& item : v) flat = flat && !item.is_structured();
  std::vector<std::string> items;
  std::size_t width = 0;
  for (auto it = v.begin(); it != v.end(); ++it) {
    std::string item = object ? scalar(ordered_json(it.key())) + ": " : std::string();
    if (flat) {
      item += scalar(*it);
    } else {
      std::string nested;
      write_text(*it, indent + 2, nested);
      item += nested;
    }
    width += item.size() + 2;
    items.push_back(std::move(item));
  }
  const char* open = object ? "{" : "[";
  const char* close = object ? "}" : "]";
  if (items.empty() || (flat && width + indent <= kInlineWidth && indent > 0)) {
    out.append(open);
    for (std::size_t i = 0; i < items.size(); ++i) out.append(i ? ", " : "").append(items[i]);
    out.append(close);
    return;
  }
  const std::string pad(indent + 2, ' ');
  out.append(open).append("\n");
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.append(pad).append(items[i]).append(i + 1 < items.size() ? ",\n" : "\n");
  }
  out.append(indent, ' ').append(close);
}

ordered_json write_pool(const Pool& p) {
  ordered_json o = write_fields<Pool>(schema::kPoolFields, p);
  ordered_json latency = ordered_json::object();
  for (int u = 0; u < kUnitKinds; ++u) latency[schema::kUnitNames[u]] = p.latency[u];
  o["latency"] = std::move(latency);
  ordered_json uses = ordered_json::array();
  for (int b = 0; b < 4; ++b) {
    if ((p.uses & (1u << b)) != 0) uses.push_back(schema::kUseNames[b]);
  }
  o["uses"] = std::move(uses);
  return o;
}
}  // namespace

std::string target_to_json(const Target& t) {
  ordered_json o = ordered_json::object();
  o["name"] = t.name;
  o["description"] = t.description;
  o["clock_hz"] = t.clock_hz;
  o["pools"] = ordered_json::array();
  for (const Pool& p : t.pools) o["pools"].push_back(write_pool(p));
  o["instruction_bytes"] = t.instruction_bytes;
  o["matrix"] = write_fields<MatrixUnit>(schema::kMatrixFields, t.matrix);
  o["vector"] = write_fields<VectorUnit>(schema::kVectorFields, t.vector);
  o["switch"] = write_fields<SwitchUnit>(schema::kSwitchFields, t.switch_unit);
  o["links"] = write_fields<Links>(schema::kLinksFields, t.links);
  o["topology"] = write_fields<Topology>(schema::kTopologyFields, t.topology);
  o["host"] = write_fields<HostLink>(schema::kHostFields, t.host);
  o["energy"] = write_fields<Energy>(schema::kEnergyFields, t.energy);
  o["default_kv"] = t.default_kv;
  o["default_prefill_chunk"] = t.default_prefill_chunk;
  // Strings from a JSON file are valid UTF-8; write_text's `replace` only
  // keeps a Target built in code with other bytes from throwing.
  std::string text;
  write_text(o, 0, text);
  return text + "\n";
}

}  // namespace lpu::target
