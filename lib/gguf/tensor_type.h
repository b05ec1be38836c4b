#pragma once
// GGML tensor element types as stored in GGUF, and their block geometry.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lpu::gguf {

/// GGML type ids (values are the on-disk ids). Only the types listed in
/// kSupportedTypes are read; the others are named for error messages.
enum class TensorType : std::uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
};

/// Block geometry of a type: `block_elems` values are stored in `block_bytes`.
struct TypeTraits {
  std::string_view name;
  std::uint32_t block_elems;
  std::uint32_t block_bytes;
};

/// Traits of a supported type, or nullopt for an unsupported or unknown id.
std::optional<TypeTraits> supported_type_traits(std::uint32_t type_id);

/// Name of any GGML type id ("Q4_K", "IQ2_XS", ...) or "unknown".
std::string_view type_name(std::uint32_t type_id);

/// "F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q4_K Q5_K Q6_K": for error messages.
std::string_view supported_type_list();

/// Bytes that `n` elements of a supported type occupy, or nullopt when `n`
/// is not a whole number of blocks or the product overflows.
std::optional<std::uint64_t> row_bytes(TensorType type, std::uint64_t n);

}  // namespace lpu::gguf
