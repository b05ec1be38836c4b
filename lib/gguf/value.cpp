#include "lib/gguf/value.h"

#include <array>
#include <cstdio>

namespace lpu::gguf {

std::string_view value_type_name(ValueType type) {
  static constexpr std::array<std::string_view, 13> kNames = {
      "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
      "bool",  "string", "array", "uint64", "int64", "float64"};
  const auto i = static_cast<std::uint32_t>(type);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kUint16: case ValueType::kInt16:
    case ValueType::kUint32: case ValueType::kInt32: case ValueType::kUint64: case ValueType::kInt64:
      return true;
    default:
      return false;
  }
}

std::string Value::to_display_string(std::size_t max_items) const {
  if (const auto* u = std::get_if<std::uint64_t>(&data)) return std::to_string(*u);
  if (const auto* i = std::get_if<std::int64_t>(&data)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&data)) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.9g", *d);
    return buf;
  }
  if (const auto* b = std::get_if<bool>(&data)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&data)) {
    std::string out = "\"";
    for (char ch : *s) {
      if (out.size() > 80) {
        out += "...";
        break;
      }
      if (ch == '\n') out += "\\n";
      else if (ch == '"') out += "\\\"";
      else out += ch;
    }
    return out + "\"";
  }
  const auto& arr = std::get<Array>(data);
  std::string out = std::string(value_type_name(arr.elem_type)) + "[" + std::to_string(arr.items.size()) + "] [";
  for (std::size_t i = 0; i < arr.items.size() && i < max_items; ++i) {
    if (i != 0) out += ", ";
    out += arr.items[i].to_display_string(max_items);
  }
  if (arr.items.size() > max_items) out += ", ...";
  return out + "]";
}

}  // namespace lpu::gguf
