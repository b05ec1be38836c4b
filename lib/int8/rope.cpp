#include "lib/int8/rope.h"

#include <cstddef>
#include <utility>

#include "kernels/rope/rope.h"

namespace lpu::int8 {

RopeAngles::RopeAngles(const ModelConfig& config, std::vector<float> freq_factors)
    : schedule_(config, std::move(freq_factors)) {}

void RopeAngles::cos_sin(int pos, float* cos_sin) const {
  // Reused across calls: this runs once per token row of every forward.
  thread_local std::vector<float> angles;
  angles.resize(static_cast<std::size_t>(schedule_.n_pairs()));
  schedule_.angles(pos, angles);
  kernels::rope_cache_from_angles_f32(angles.data(), angles.size(), schedule_.mscale(), cos_sin);
}

}  // namespace lpu::int8
