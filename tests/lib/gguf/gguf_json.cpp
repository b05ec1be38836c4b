#include "tests/lib/gguf/gguf_json.h"

#include <bit>
#include <cstring>

#include "lib/gguf/dequantize.h"

namespace lpu::gguf::testing {

nlohmann::json value_to_json(const Value& v) {
  nlohmann::json j;
  j["type"] = std::string(value_type_name(v.type));
  if (v.type == ValueType::kFloat32) {
    j["bits"] = std::bit_cast<std::uint32_t>(static_cast<float>(std::get<double>(v.data)));
  } else if (v.type == ValueType::kFloat64) {
    j["bits"] = std::bit_cast<std::uint64_t>(std::get<double>(v.data));
  } else if (const auto* u = std::get_if<std::uint64_t>(&v.data)) {
    j["value"] = *u;
  } else if (const auto* i = std::get_if<std::int64_t>(&v.data)) {
    j["value"] = *i;
  } else if (const auto* b = std::get_if<bool>(&v.data)) {
    j["value"] = *b;
  } else if (const auto* s = std::get_if<std::string>(&v.data)) {
    j["value"] = *s;
  } else {
    const auto& arr = std::get<Array>(v.data);
    j["elem_type"] = std::string(value_type_name(arr.elem_type));
    j["items"] = nlohmann::json::array();
    for (const Value& item : arr.items) j["items"].push_back(value_to_json(item));
  }
  return j;
}

Result<nlohmann::json> describe_file(const File& file) {
  nlohmann::json doc;
  doc["version"] = file.version();
  doc["alignment"] = file.alignment();
  doc["metadata"] = nlohmann::json::array();
  for (const KeyValue& kv : file.metadata()) {
    nlohmann::json j = value_to_json(kv.value);
    j["key"] = kv.key;
    doc["metadata"].push_back(std::move(j));
  }
  doc["tensors"] = nlohmann::json::array();
  for (const TensorInfo& t : file.tensors()) {
    LPU_ASSIGN_OR_RETURN(const std::vector<float> values, dequantize_tensor(file, t));
    std::vector<std::uint32_t> bits(values.size());
    if (!values.empty()) std::memcpy(bits.data(), values.data(), values.size() * 4);
    const auto type_id = static_cast<std::uint32_t>(t.type);
    doc["tensors"].push_back({{"name", t.name},
                              {"type", std::string(type_name(type_id))},
                              {"type_id", type_id},
                              {"dims", t.dims},
                              {"values_f32_bits", bits}});
  }
  return doc;
}

}  // namespace lpu::gguf::testing
