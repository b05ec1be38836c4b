#include "lib/quant/hadamard.h"

#include <cmath>
#include <string>

namespace lpu::quant {
namespace {

// Paley's construction I for a prime q = 3 mod 4: H = I + [[0, 1^T], [-1, Q]]
// with Q[i][j] = chi(j - i), chi the quadratic character mod q.
std::vector<int> paley(int q) {
  std::vector<int> chi(static_cast<std::size_t>(q), -1);
  chi[0] = 0;
  for (int a = 1; a < q; ++a) chi[static_cast<std::size_t>(a * a % q)] = 1;
  const int m = q + 1;
  std::vector<int> h(static_cast<std::size_t>(m * m), 0);
  auto at = [&](int i, int j) -> int& { return h[static_cast<std::size_t>(i * m + j)]; };
  for (int j = 1; j < m; ++j) {
    at(0, j) = 1;
    at(j, 0) = -1;
  }
  for (int i = 1; i < m; ++i) {
    for (int j = 1; j < m; ++j) at(i, j) = chi[static_cast<std::size_t>(((j - i) % q + q) % q)];
  }
  for (int i = 0; i < m; ++i) at(i, i) += 1;
  return h;
}

const std::vector<int>& factor_matrix(std::size_t m) {
  static const std::vector<int> h2 = {1, 1, 1, -1};
  static const std::vector<int> h12 = paley(11);
  static const std::vector<int> h20 = paley(19);
  return m == 2 ? h2 : m == 12 ? h12 : h20;
}

bool factorise(std::size_t n, std::vector<std::size_t>& out) {
  if (n == 1) return true;
  for (std::size_t f : {std::size_t{20}, std::size_t{12}, std::size_t{2}}) {
    if (n % f == 0) {
      out.push_back(f);
      if (factorise(n / f, out)) return true;
      out.pop_back();
    }
  }
  return false;
}

// splitmix64: fixed arithmetic, one sign per channel.
float sign_of(std::uint64_t seed, std::size_t i) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (static_cast<std::uint64_t>(i) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (z & 1) != 0 ? -1.0f : 1.0f;
}

}  // namespace

bool HadamardRotation::supports(std::size_t n) {
  std::vector<std::size_t> f;
  return n > 0 && factorise(n, f);
}

Result<HadamardRotation> HadamardRotation::create(std::size_t n, std::uint64_t seed) {
  HadamardRotation r;
  if (n == 0 || !factorise(n, r.factors_)) {
    return invalid_argument("no Hadamard rotation of order " + std::to_string(n) +
                            " (expected 2^a 12^b 20^c)");
  }
  r.n_ = n;
  r.signs_.resize(n);
  for (std::size_t i = 0; i < n; ++i) r.signs_[i] = sign_of(seed, i);
  r.scale_ = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  return r;
}

void HadamardRotation::rotate(std::span<float> x) const {
  for (std::size_t i = 0; i < n_; ++i) x[i] *= signs_[i];
  // One axis per Kronecker factor: y[.., l, ..] = sum_i x[.., i, ..] F[i][l].
  std::vector<float> in, out;
  std::size_t inner = n_;
  for (std::size_t m : factors_) {
    inner /= m;
    const std::vector<int>& f = factor_matrix(m);
    in.resize(m);
    out.resize(m);
    for (std::size_t block = 0; block < n_; block += m * inner) {
      for (std::size_t o = 0; o < inner; ++o) {
        for (std::size_t i = 0; i < m; ++i) in[i] = x[block + i * inner + o];
        for (std::size_t l = 0; l < m; ++l) {
          float acc = 0.0f;
          for (std::size_t i = 0; i < m; ++i) acc = f[i * m + l] > 0 ? acc + in[i] : acc - in[i];
          out[l] = acc;
        }
        for (std::size_t l = 0; l < m; ++l) x[block + l * inner + o] = out[l];
      }
    }
  }
  for (std::size_t i = 0; i < n_; ++i) x[i] *= scale_;
}

float HadamardRotation::entry(std::size_t i, std::size_t j) const {
  std::vector<float> e(n_, 0.0f);
  e[i] = 1.0f;
  rotate(e);
  return e[j];
}

}  // namespace lpu::quant
