// libFuzzer target: gguf::File::from_bytes on arbitrary bytes must return a
// value or an error naming the input, never crash, hang or read out of
// bounds; for files it accepts, every metadata value is read through every
// getter and every supported tensor is dequantised (touching each byte of
// its data view).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "lib/gguf/dequantize.h"
#include "lib/gguf/file.h"

namespace {

constexpr char kName[] = "fuzz.gguf";

void require(bool ok) {
  if (!ok) std::abort();
}

void walk_metadata(const lpu::gguf::File& f) {
  for (const lpu::gguf::KeyValue& kv : f.metadata()) {
    require(f.find(kv.key) == &kv.value);
    (void)kv.value.to_display_string();
    (void)f.get_int(kv.key);
    (void)f.get_u32(kv.key);
    (void)f.get_float(kv.key);
    (void)f.get_bool(kv.key);
    (void)f.get_string(kv.key);
    (void)f.get_string_array(kv.key);
    (void)f.get_float_array(kv.key);
    (void)f.get_int_array(kv.key);
    (void)f.get_int_or(kv.key, 0);
  }
}

void walk_tensors(const lpu::gguf::File& f) {
  for (const lpu::gguf::TensorInfo& t : f.tensors()) {
    require(f.find_tensor(t.name) == &t);
    (void)t.shape_string();
    (void)t.n_rows();
    auto values = lpu::gguf::dequantize_tensor(f, t);
    if (!t.supported) {
      require(!values.ok());
      continue;
    }
    require(values.ok() && values->size() == t.n_elements);
    // Use the values so the dequantiser cannot be optimised away.
    volatile float sink = 0;
    for (float v : *values) sink = sink + (std::isnan(v) ? 0.0f : 1.0f);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (bool allow_unsupported : {false, true}) {
    auto f = lpu::gguf::File::from_bytes({data, size}, kName,
                                         {.allow_unsupported_types = allow_unsupported});
    if (!f.ok()) {
      require(f.status().message().rfind(kName, 0) == 0);  // errors name the input
      continue;
    }
    walk_metadata(*f);
    walk_tensors(*f);
  }
  return 0;
}
