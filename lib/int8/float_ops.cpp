#include "lib/int8/float_ops.h"

#include <array>
#include <vector>

#include "lib/gguf/dequantize.h"

namespace lpu::int8 {
namespace {

// All 65536 binary16 values as floats (256 KiB), built once: the fp16 KV
// cache converts every key and value it reads.
const std::vector<float>& f16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (std::size_t i = 0; i < t.size(); ++i) {
      t[i] = gguf::f16_to_f32(static_cast<std::uint16_t>(i));
    }
    return t;
  }();
  return table;
}

}  // namespace

float f16_to_f32(std::uint16_t h) { return f16_table()[h]; }

std::uint16_t f32_to_f16(float f) { return gguf::f32_to_f16(f); }

}  // namespace lpu::int8
