#include "lib/gguf/tensor_type.h"

#include <array>

namespace lpu::gguf {
namespace {

struct Entry {
  std::uint32_t id;
  TypeTraits traits;
  bool supported;
};

// Block sizes follow the GGML block definitions (QK_K = 256 for K-quants).
constexpr std::array<Entry, 31> kTypes = {{
    {0, {"F32", 1, 4}, true},
    {1, {"F16", 1, 2}, true},
    {2, {"Q4_0", 32, 18}, true},
    {3, {"Q4_1", 32, 20}, true},
    {6, {"Q5_0", 32, 22}, false},
    {7, {"Q5_1", 32, 24}, false},
    {8, {"Q8_0", 32, 34}, true},
    {9, {"Q8_1", 32, 36}, false},
    {10, {"Q2_K", 256, 84}, false},
    {11, {"Q3_K", 256, 110}, false},
    {12, {"Q4_K", 256, 144}, true},
    {13, {"Q5_K", 256, 176}, true},
    {14, {"Q6_K", 256, 210}, true},
    {15, {"Q8_K", 256, 292}, false},
    {16, {"IQ2_XXS", 256, 66}, false},
    {17, {"IQ2_XS", 256, 74}, false},
    {18, {"IQ3_XXS", 256, 98}, false},
    {19, {"IQ1_S", 256, 50}, false},
    {20, {"IQ4_NL", 32, 18}, false},
    {21, {"IQ3_S", 256, 110}, false},
    {22, {"IQ2_S", 256, 82}, false},
    {23, {"IQ4_XS", 256, 136}, false},
    {24, {"I8", 1, 1}, false},
    {25, {"I16", 1, 2}, false},
    {26, {"I32", 1, 4}, false},
    {27, {"I64", 1, 8}, false},
    {28, {"F64", 1, 8}, false},
    {29, {"IQ1_M", 256, 56}, false},
    {30, {"BF16", 1, 2}, true},
    {34, {"TQ1_0", 256, 54}, false},
    {35, {"TQ2_0", 256, 66}, false},
}};

const Entry* find(std::uint32_t id) {
  for (const Entry& e : kTypes) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

}  // namespace

std::optional<TypeTraits> supported_type_traits(std::uint32_t type_id) {
  const Entry* e = find(type_id);
  if (e == nullptr || !e->supported) return std::nullopt;
  return e->traits;
}

std::string_view type_name(std::uint32_t type_id) {
  const Entry* e = find(type_id);
  return e == nullptr ? std::string_view("unknown") : e->traits.name;
}

std::string_view supported_type_list() { return "F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q4_K Q5_K Q6_K"; }

std::optional<std::uint64_t> row_bytes(TensorType type, std::uint64_t n) {
  auto t = supported_type_traits(static_cast<std::uint32_t>(type));
  if (!t || n % t->block_elems != 0) return std::nullopt;
  const std::uint64_t blocks = n / t->block_elems;
  if (blocks > UINT64_MAX / t->block_bytes) return std::nullopt;
  return blocks * t->block_bytes;
}

}  // namespace lpu::gguf
