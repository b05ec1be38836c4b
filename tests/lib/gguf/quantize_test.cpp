#include "lib/gguf/quantize.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "lib/gguf/dequantize.h"

namespace lpu::gguf {
namespace {

std::uint16_t load_u16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

TEST(Quantize, CanQuantizeExactlyTheWrittenTypes) {
  EXPECT_TRUE(can_quantize(TensorType::kF32));
  EXPECT_TRUE(can_quantize(TensorType::kF16));
  EXPECT_TRUE(can_quantize(TensorType::kBF16));
  EXPECT_TRUE(can_quantize(TensorType::kQ8_0));
  EXPECT_FALSE(can_quantize(TensorType::kQ4_0));
  EXPECT_FALSE(can_quantize(TensorType::kQ4_K));
}

// ggml's reference: d = amax / 127 stored as f16, q = roundf(x / d) with the
// reciprocal computed in float.
TEST(Quantize, Q8_0FollowsTheReferenceRule) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = 0.25f * static_cast<float>(i - 16);
  x[7] = -5.0f;                 // amax
  x[8] = 2.5f * 5.0f / 127.0f;  // about half a step from a level
  std::uint8_t out[34];
  quantize_row(TensorType::kQ8_0, x, out, 32);
  const float d = 5.0f / 127.0f;
  EXPECT_EQ(load_u16(out), f32_to_f16(d));
  const float id = 1.0f / d;
  const auto* q = reinterpret_cast<const std::int8_t*>(out + 2);
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(q[i], static_cast<std::int8_t>(std::roundf(x[i] * id))) << i;
  EXPECT_EQ(q[7], -127);
  float back[32];
  dequantize_row(TensorType::kQ8_0, out, back, 32);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(back[i], x[i], d * 0.51f + 1e-3f) << i;
}

TEST(Quantize, Q8_0ZeroAndNonFiniteBlocks) {
  float zeros[32] = {};
  std::uint8_t out[34];
  quantize_row(TensorType::kQ8_0, zeros, out, 32);
  for (std::uint8_t b : out) EXPECT_EQ(b, 0);
  float bad[32] = {};
  bad[3] = std::numeric_limits<float>::infinity();
  bad[4] = 1.0f;
  quantize_row(TensorType::kQ8_0, bad, out, 32);  // must not be undefined behaviour
  EXPECT_EQ(load_u16(out), 0x7C00);               // d = inf
  for (int i = 2; i < 34; ++i) EXPECT_EQ(out[i], 0) << i;
}

TEST(Quantize, Bf16RoundsToNearestEvenAndQuietsNaN) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3F808001u)), 0x3F81);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7F800001u)), 0x7FC0);  // signalling NaN quieted
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7F7FFFFFu)), 0x7F80);  // max float rounds to inf
}

TEST(Quantize, F16AndBf16RowsRoundTripRepresentableValues) {
  const float v[4] = {1.5f, -2.0f, 0.0f, 65504.0f};
  std::uint8_t out[8];
  float back[4];
  quantize_row(TensorType::kF16, v, out, 4);
  dequantize_row(TensorType::kF16, out, back, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], v[i]);
  quantize_row(TensorType::kBF16, v, out, 4);
  dequantize_row(TensorType::kBF16, out, back, 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(back[i], v[i]);
  EXPECT_EQ(back[3], 65536.0f);
}

}  // namespace
}  // namespace lpu::gguf
