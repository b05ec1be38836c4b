#pragma once
// GGUF metadata values: typed scalars, strings and (nested) arrays.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lpu::gguf {

/// On-disk metadata value type ids.
enum class ValueType : std::uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

/// "uint32", "string", "array", ...; "unknown" for an id past kFloat64.
std::string_view value_type_name(ValueType type);

struct Value;

/// An array value: every item has `elem_type`.
struct Array {
  ValueType elem_type = ValueType::kUint8;
  std::vector<Value> items;
};

/// One metadata value. Integers are widened to 64 bits on read (the
/// original width is kept in `type`); floats to double.
struct Value {
  ValueType type = ValueType::kUint8;
  std::variant<std::uint64_t, std::int64_t, double, bool, std::string, Array> data;

  bool is_integer() const;
  bool is_float() const { return type == ValueType::kFloat32 || type == ValueType::kFloat64; }
  bool is_string() const { return type == ValueType::kString; }
  bool is_array() const { return type == ValueType::kArray; }

  /// A short human-readable rendering (arrays abbreviated), for `inspect`.
  std::string to_display_string(std::size_t max_items = 8) const;
};

/// One key/value pair, in file order.
struct KeyValue {
  std::string key;
  Value value;
};

}  // namespace lpu::gguf
