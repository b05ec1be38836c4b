#pragma once
// The JSON description of a GGUF file shared with the Python peer scripts
// (tests/peer/make_gguf_fixtures.py writes it, tests/peer/check_gguf.py
// reads it): metadata in file order with floats as bit patterns, and each
// tensor's name, GGML dims, type and fp32 values as bit patterns.

#include <nlohmann/json.hpp>
#include <utility>

#include "include/lpu/status.h"
#include "lib/gguf/file.h"

namespace lpu::gguf::testing {

/// A Value of `type` holding `data` (assigned, not brace-built: GCC 12
/// warns falsely about brace-built variants).
template <typename T>
Value make_value(ValueType type, T data) {
  Value v;
  v.type = type;
  v.data = std::move(data);
  return v;
}

/// {"type": ..., "value" | "bits" | "elem_type" + "items"}.
nlohmann::json value_to_json(const Value& v);

/// {"version", "alignment", "metadata": [...], "tensors": [...]}, tensor
/// values from this project's dequantiser.
Result<nlohmann::json> describe_file(const File& file);

}  // namespace lpu::gguf::testing
