#include "lib/gguf/rewrite.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "lib/gguf/dequantize.h"
#include "lib/gguf/file.h"
#include "lib/gguf/writer.h"

namespace lpu::gguf {
namespace {

// GGML's quantisation format version, written by llama.cpp's quantiser.
constexpr std::uint32_t kQuantizationVersion = 2;
constexpr std::uint32_t kFileTypeAllF32 = 0;

// The block number of "blk.N.…", or -1: the key llama.cpp's loader sorts
// tensors by before their names (its sscanf("blk.%d.") comparator).
long long block_number(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return -1;
  std::size_t i = kPrefix.size();
  if (i == name.size() || name[i] < '0' || name[i] > '9') return -1;
  long long n = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && n < (1LL << 40); ++i) {
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

}  // namespace

Status rewrite_as_f32(const std::string& src, const std::string& dst) {
  LPU_ASSIGN_OR_RETURN(const File in, File::open(src));
  Writer out;
  for (const KeyValue& kv : in.metadata()) {
    if (kv.key.rfind("split.", 0) == 0) continue;
    out.set(kv.key, kv.value);
  }
  out.remove("general.quantization_version");
  out.set_u32("general.quantization_version", kQuantizationVersion);
  out.remove("general.file_type");
  out.set_u32("general.file_type", kFileTypeAllF32);

  std::vector<const TensorInfo*> order;
  for (const TensorInfo& t : in.tensors()) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
    const long long la = block_number(a->name), lb = block_number(b->name);
    return la != lb ? la < lb : a->name < b->name;
  });
  for (const TensorInfo* t : order) {
    auto fill = [t](std::span<std::uint8_t> bytes) -> Status {
      // Row by row keeps the peak memory at one output tensor.
      const std::uint64_t row = t->row_length();
      const std::uint64_t in_row_bytes = *row_bytes(t->type, row);
      std::vector<float> tmp(static_cast<std::size_t>(row));
      for (std::uint64_t r = 0; r < t->n_rows(); ++r) {
        dequantize_row(t->type, t->data + r * in_row_bytes, tmp.data(), row);
        std::memcpy(bytes.data() + r * row * 4, tmp.data(), row * 4);
      }
      return {};
    };
    LPU_TRY(out.add_tensor_lazy(t->name, t->dims, TensorType::kF32, fill), src);
  }
  return out.write(dst);
}

}  // namespace lpu::gguf
