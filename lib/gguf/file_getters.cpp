// Typed metadata getters of gguf::File.
#include <cmath>
#include <limits>

#include "lib/gguf/file.h"

namespace lpu::gguf {
namespace {

bool integer_of(const Value& v, std::int64_t& out) {
  if (const auto* u = std::get_if<std::uint64_t>(&v.data)) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(*u);
    return true;
  }
  if (const auto* i = std::get_if<std::int64_t>(&v.data)) {
    out = *i;
    return true;
  }
  return false;
}

}  // namespace

Status File::type_error(std::string_view key, const Value& v, std::string_view expected) const {
  return invalid_argument(path_ + ": key '" + std::string(key) + "' has type " +
                          std::string(value_type_name(v.type)) + " (expected " + std::string(expected) + ")");
}

Result<std::int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return not_found(path_ + ": missing key '" + std::string(key) + "'");
  std::int64_t out = 0;
  if (!v->is_integer() || !integer_of(*v, out)) return type_error(key, *v, "an integer");
  return out;
}

Result<std::uint32_t> File::get_u32(std::string_view key) const {
  LPU_ASSIGN_OR_RETURN(std::int64_t x, get_int(key));
  if (x < 0 || x > std::numeric_limits<std::uint32_t>::max()) {
    return out_of_range(path_ + ": key '" + std::string(key) + "' is " + std::to_string(x) +
                        " (expected 0..4294967295)");
  }
  return static_cast<std::uint32_t>(x);
}

Result<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return not_found(path_ + ": missing key '" + std::string(key) + "'");
  if (!v->is_float()) return type_error(key, *v, "float32 or float64");
  return std::get<double>(v->data);
}

Result<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return not_found(path_ + ": missing key '" + std::string(key) + "'");
  if (v->type != ValueType::kBool) return type_error(key, *v, "bool");
  return std::get<bool>(v->data);
}

Result<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return not_found(path_ + ": missing key '" + std::string(key) + "'");
  if (!v->is_string()) return type_error(key, *v, "string");
  return std::get<std::string>(v->data);
}

Result<std::vector<std::string>> File::get_string_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return not_found(path_ + ": missing key '" + std::string(key) + "'");
  if (!v->is_array() || std::get<Array>(v->data).elem_type != ValueType::kString) {
    return type_error(key, *v, "array of string");
  }
  std::vector<std::string> out;
  const auto& items = std::get<Array>(v->data).items;
  out.reserve(items.size());
  for (const Value& item : items) out.push_back(std::get<std::string>(item.data));
  return out;
}

Result<std::vector<float>> File::get_float_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return not_found(path_ + ": missing key '" + std::string(key) + "'");
  if (!v->is_array()) return type_error(key, *v, "array of float32");
  const Array& arr = std::get<Array>(v->data);
  if (arr.elem_type != ValueType::kFloat32 && arr.elem_type != ValueType::kFloat64) {
    return type_error(key, *v, "array of float32");
  }
  std::vector<float> out;
  out.reserve(arr.items.size());
  for (const Value& item : arr.items) out.push_back(static_cast<float>(std::get<double>(item.data)));
  return out;
}

Result<std::vector<std::int64_t>> File::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return not_found(path_ + ": missing key '" + std::string(key) + "'");
  if (!v->is_array()) return type_error(key, *v, "array of integers");
  const Array& arr = std::get<Array>(v->data);
  std::vector<std::int64_t> out;
  out.reserve(arr.items.size());
  for (std::size_t i = 0; i < arr.items.size(); ++i) {
    std::int64_t x = 0;
    if (!arr.items[i].is_integer() || !integer_of(arr.items[i], x)) {
      return invalid_argument(path_ + ": key '" + std::string(key) + "' item " + std::to_string(i) +
                              " is not an int64-representable integer");
    }
    out.push_back(x);
  }
  return out;
}

Result<std::int64_t> File::get_int_or(std::string_view key, std::int64_t fallback) const {
  if (find(key) == nullptr) return fallback;
  return get_int(key);
}

Result<double> File::get_float_or(std::string_view key, double fallback) const {
  if (find(key) == nullptr) return fallback;
  return get_float(key);
}

Result<bool> File::get_bool_or(std::string_view key, bool fallback) const {
  if (find(key) == nullptr) return fallback;
  return get_bool(key);
}

}  // namespace lpu::gguf
