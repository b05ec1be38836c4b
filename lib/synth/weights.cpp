#include "lib/synth/weights.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <vector>

#include "lib/core/rng.h"
#include "lib/gguf/quantize.h"

namespace lpu::synth {
namespace {

// Elements per parallel task: a multiple of every block size (32 for Q8_0),
// large enough to amortise the task overhead.
constexpr std::uint64_t kChunk = 1 << 16;

}  // namespace

float synth_weight(std::uint64_t seed, std::uint64_t stream, std::uint64_t index, WeightInit init) {
  const double v = init.mean + init.stddev * rng::normal(seed, stream, index);
  const bool outlier = init.outlier_every != 0 && index % init.outlier_every == init.outlier_every / 2;
  return static_cast<float>(outlier ? v * init.outlier_scale : v);
}

Status fill_tensor(std::uint64_t seed, const std::string& name, WeightInit init,
                   gguf::TensorType type, std::uint64_t n, std::span<std::uint8_t> out) {
  const auto bytes = gguf::row_bytes(type, n);
  if (!gguf::can_quantize(type) || !bytes || *bytes != out.size()) {
    return internal_error("tensor '" + name + "': cannot fill " + std::to_string(out.size()) +
                          " bytes with " + std::to_string(n) + " values of type " +
                          std::string(gguf::type_name(static_cast<std::uint32_t>(type))));
  }
  const std::uint64_t stream = rng::fnv1a64(name.data(), name.size());
  const std::uint64_t n_chunks = (n + kChunk - 1) / kChunk;
  tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, n_chunks),
                    [&](const tbb::blocked_range<std::uint64_t>& r) {
                      std::vector<float> values(kChunk);
                      for (std::uint64_t c = r.begin(); c != r.end(); ++c) {
                        const std::uint64_t begin = c * kChunk;
                        const std::uint64_t count = std::min(kChunk, n - begin);
                        for (std::uint64_t i = 0; i < count; ++i) {
                          values[i] = synth_weight(seed, stream, begin + i, init);
                        }
                        const std::uint64_t at = *gguf::row_bytes(type, begin);
                        gguf::quantize_row(type, values.data(), out.data() + at, count);
                      }
                    });
  return {};
}

}  // namespace lpu::synth
