#pragma once
// The one reduction order of the float kernels, independent of vector width.
//
// A row is cut into blocks of 16 floats; element i belongs to lane i % 16.
// Each lane accumulates its elements in ascending order, then the 16 lanes
// combine in a fixed pairwise tree (lane i + lane i+8, then +4, +2, +1). The
// portable path keeps the 16 lanes as 16 scalars, AVX2 as two 8-float (four
// 4-double) registers, AVX-512 as one (two) - the same additions in the same
// order, so all paths give the same bits. A short last block is padded with
// the operation's neutral element (0 for sums, -inf for max), which leaves
// its lanes unchanged exactly as if it had been skipped.
//
// Sums accumulate in double (floats widen exactly): the results the
// reference forward pass computes with a sequential double sum then agree
// to the last float bit in all but rare rounding-boundary cases, and the
// error stays far below float resolution at any row length.
//
// Internal linkage: see kernels/math/math-inl.h.

#include <cstddef>
#include <limits>

#include "kernels/math/vec.h"

namespace lpu::kernels {
namespace {

inline constexpr std::size_t kBlock = 16;

/// Number of F vectors in one block of 16 floats.
template <class F>
inline constexpr std::size_t kVecsPerBlock = kBlock / vec::kLanesOf<F>;

template <class F>
void load_block(const float* p, F* v) {
  for (std::size_t i = 0; i < kVecsPerBlock<F>; ++i) v[i] = vec::load<F>(p + i * vec::kLanesOf<F>);
}

/// Loads count < 16 floats and fills the rest of the block with pad.
template <class F>
void load_block_partial(const float* p, std::size_t count, float pad, F* v) {
  float buf[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) buf[i] = i < count ? p[i] : pad;
  load_block(buf, v);
}

template <class F>
void store_block(float* p, const F* v) {
  for (std::size_t i = 0; i < kVecsPerBlock<F>; ++i) vec::store(p + i * vec::kLanesOf<F>, v[i]);
}

/// Stores the first count < 16 floats of a block.
template <class F>
void store_block_partial(float* p, std::size_t count, const F* v) {
  float buf[kBlock];
  store_block(buf, v);
  for (std::size_t i = 0; i < count; ++i) p[i] = buf[i];
}

inline double sum_tree16(const double* lane) {
  double t8[8];
  for (int i = 0; i < 8; ++i) t8[i] = lane[i] + lane[i + 8];
  double t4[4];
  for (int i = 0; i < 4; ++i) t4[i] = t8[i] + t8[i + 4];
  const double t2[2] = {t4[0] + t4[2], t4[1] + t4[3]};
  return t2[0] + t2[1];
}

/// The larger of a and b, a when they compare equal or b is NaN.
inline float max_of(float a, float b) { return b > a ? b : a; }

inline float max_tree16(const float* lane) {
  float t8[8];
  for (int i = 0; i < 8; ++i) t8[i] = max_of(lane[i], lane[i + 8]);
  float t4[4];
  for (int i = 0; i < 4; ++i) t4[i] = max_of(t8[i], t8[i + 4]);
  return max_of(max_of(t4[0], t4[2]), max_of(t4[1], t4[3]));
}

/// 16 double lanes summing blocks of floats.
template <class F>
class SumLanes16 {
 public:
  SumLanes16() {
    for (auto& a : acc_) a = D(0.0);
  }

  /// Adds one block (kVecsPerBlock<F> vectors) lane by lane.
  void add(const F* block) {
    for (std::size_t f = 0; f < kVecsPerBlock<F>; ++f) {
      D wide[kPerVec];
      vec::widen(block[f], wide);
      for (std::size_t j = 0; j < kPerVec; ++j)
        acc_[f * kPerVec + j] = acc_[f * kPerVec + j] + wide[j];
    }
  }

  double total() const {
    double lane[kBlock];
    for (std::size_t i = 0; i < kAcc; ++i) vec::store(lane + i * kDoubleLanes, acc_[i]);
    return sum_tree16(lane);
  }

 private:
  using D = typename vec::Traits<F>::Double;
  static constexpr std::size_t kDoubleLanes = vec::Traits<F>::kDoubleLanes;
  static constexpr std::size_t kPerVec = vec::kLanesOf<F> / kDoubleLanes;
  static constexpr std::size_t kAcc = kBlock / kDoubleLanes;
  D acc_[kAcc];
};

/// 16 float lanes keeping the running maximum (NaN elements are ignored:
/// a comparison with NaN is false).
template <class F>
class MaxLanes16 {
 public:
  MaxLanes16() {
    for (auto& a : acc_) a = F(-std::numeric_limits<float>::infinity());
  }

  void add(const F* block) {
    for (std::size_t f = 0; f < kVecsPerBlock<F>; ++f)
      acc_[f] = vec::select(block[f] > acc_[f], block[f], acc_[f]);
  }

  float total() const {
    float lane[kBlock];
    store_block(lane, acc_);
    return max_tree16(lane);
  }

 private:
  F acc_[kVecsPerBlock<F>];
};

}  // namespace
}  // namespace lpu::kernels
