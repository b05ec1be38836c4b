#include "lib/quant/rotation.h"

#include <initializer_list>
#include <span>

#include "lib/reference/weights.h"

namespace lpu::quant {
namespace {

using reference::MatrixRM;

void fold_norm(Eigen::VectorXf& g, std::initializer_list<MatrixRM*> readers) {
  for (MatrixRM* m : readers) {
    for (Eigen::Index j = 0; j < m->cols(); ++j) m->col(j) *= g(j);
  }
  g.setOnes();
}

}  // namespace

void apply_rotation(const ModelConfig& c, const HadamardRotation& rot, reference::Weights& w) {
  // x R for every row of `m` (readers, the embedding); R^T m rotates the
  // columns, the rows of m's transpose (writers).
  const auto rotate_rows = [&rot](MatrixRM& m) {
    for (Eigen::Index r = 0; r < m.rows(); ++r) rot.rotate(std::span<float>(m.row(r).data(), static_cast<std::size_t>(m.cols())));
  };
  const auto rotate_columns = [&](MatrixRM& m) {
    MatrixRM t = m.transpose();
    rotate_rows(t);
    m = t.transpose();
  };
  for (reference::LayerWeights& l : w.layers) {
    fold_norm(l.attn_norm, {&l.wq, &l.wk, &l.wv});
    for (MatrixRM* m : {&l.wq, &l.wk, &l.wv}) rotate_rows(*m);
    rotate_columns(l.wo);
    if (c.is_moe()) {
      std::vector<MatrixRM*> readers = {&l.router};
      for (reference::FfnWeights& e : l.experts) {
        readers.push_back(&e.gate);
        readers.push_back(&e.up);
      }
      for (MatrixRM* m : readers) {
        for (Eigen::Index j = 0; j < m->cols(); ++j) m->col(j) *= l.ffn_norm(j);
        rotate_rows(*m);
      }
      l.ffn_norm.setOnes();
      for (reference::FfnWeights& e : l.experts) rotate_columns(e.down);
    } else {
      fold_norm(l.ffn_norm, {&l.ffn.gate, &l.ffn.up});
      rotate_rows(l.ffn.gate);
      rotate_rows(l.ffn.up);
      rotate_columns(l.ffn.down);
    }
  }
  if (w.output.size() == 0) w.output = w.token_embd;  // untie: the head folds the output norm
  fold_norm(w.output_norm, {&w.output});
  rotate_rows(w.output);
  rotate_rows(w.token_embd);
}

}  // namespace lpu::quant
