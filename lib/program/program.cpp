#include "lib/program/program.h"

#include <iterator>

namespace lpu::program {
namespace {

// Indexed by the enum value; the asserts make adding a value without its
// name a compile error.
constexpr std::string_view kEncodingNames[] = {"tiled_s8", "f32", "gguf_rows", "zero", "text",
                                               "zero_unit_scales"};
static_assert(std::size(kEncodingNames) == static_cast<std::size_t>(Encoding::kEncodingCount));
constexpr std::string_view kDataKindNames[] = {"weights", "kv", "activations", "instructions"};
static_assert(std::size(kDataKindNames) == static_cast<std::size_t>(DataKind::kDataKindCount));

}  // namespace

std::string_view encoding_name(Encoding e) {
  const auto i = static_cast<std::size_t>(e);
  return i < std::size(kEncodingNames) ? kEncodingNames[i] : "unknown";
}

std::string_view data_kind_name(DataKind k) {
  const auto i = static_cast<std::size_t>(k);
  return i < std::size(kDataKindNames) ? kDataKindNames[i] : "unknown";
}

const Variant* Program::find_variant(std::string_view name) const {
  for (const Variant& v : variants) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

}  // namespace lpu::program
