#include "lib/quant/smoothing_record.h"

#include <cmath>
#include <cstdlib>

namespace lpu::quant {
namespace {

struct Site {
  const char* name;
  std::vector<std::vector<float>> ChannelValues::*values;
};

constexpr Site kSites[] = {
    {"attention_input", &ChannelValues::attention_input},
    {"attention_output", &ChannelValues::attention_output},
    {"ffn_input", &ChannelValues::ffn_input},
    {"down_input", &ChannelValues::down_input},
    {"output_input", &ChannelValues::output_input},
};

// Channels per layer of each site in kSites' order; 0: not used.
std::size_t site_channels(const ModelConfig& c, std::size_t site) {
  switch (site) {
    case 0: return static_cast<std::size_t>(c.n_embd);
    case 1: return static_cast<std::size_t>(c.n_head) * static_cast<std::size_t>(c.head_dim);
    case 2: return static_cast<std::size_t>(c.n_embd);
    case 3: return c.is_moe() ? 0 : static_cast<std::size_t>(c.n_ff);
    default: return static_cast<std::size_t>(c.n_embd);
  }
}

// Layers of each site: the output head's input is one.
std::size_t site_layers(const ModelConfig& c, std::size_t site) {
  return site == 4 ? 1 : static_cast<std::size_t>(c.n_layer);
}

std::vector<float> reciprocals(const std::vector<float>& s) {
  std::vector<float> r(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) r[i] = 1.0f / s[i];
  return r;
}

}  // namespace

int block_of(std::string_view name, std::string_view& rest) {
  if (name.substr(0, 4) != "blk.") return -1;
  const std::size_t dot = name.find('.', 4);
  if (dot == std::string_view::npos || dot == 4) return -1;
  int layer = 0;
  for (char ch : name.substr(4, dot - 4)) {
    if (ch < '0' || ch > '9' || layer > 100000) return -1;
    layer = layer * 10 + (ch - '0');
  }
  rest = name.substr(dot + 1);
  return layer;
}


program::Smoothing smoothing_record(const ChannelValues& factors, float alpha,
                                    std::string calibration_hash, std::uint32_t calibration_tokens) {
  program::Smoothing r;
  r.method = "smoothquant";
  r.alpha = alpha;
  r.calibration_hash = std::move(calibration_hash);
  r.calibration_tokens = calibration_tokens;
  for (const Site& site : kSites) {
    const auto& layers = factors.*site.values;
    if (layers.empty()) continue;
    program::SmoothingSite out{site.name, {}};
    for (const std::vector<float>& layer : layers) {
      std::vector<std::int8_t> e(layer.size());
      for (std::size_t j = 0; j < layer.size(); ++j) e[j] = static_cast<std::int8_t>(std::ilogb(layer[j]));
      out.log2_factors.push_back(std::move(e));
    }
    r.sites.push_back(std::move(out));
  }
  return r;
}

Result<ChannelValues> smoothing_factors_of(const program::Smoothing& record, const ModelConfig& c,
                                           std::string_view source) {
  const std::string where = std::string(source) + ": smoothing: ";
  if (record.method != "smoothquant") {
    return invalid_argument(where + "method '" + record.method + "' (expected smoothquant)");
  }
  ChannelValues out;
  for (const program::SmoothingSite& in : record.sites) {
    std::size_t k = 0;
    while (k < std::size(kSites) && in.name != kSites[k].name) ++k;
    if (k == std::size(kSites)) {
      return invalid_argument(where + "site '" + in.name +
                              "' (expected attention_input, attention_output, ffn_input, down_input or output_input)");
    }
    auto& layers = out.*kSites[k].values;
    if (!layers.empty()) return invalid_argument(where + "site '" + in.name + "' appears twice");
    const std::size_t channels = site_channels(c, k);
    const std::size_t expected_layers = channels == 0 ? 0 : site_layers(c, k);
    if (in.log2_factors.size() != expected_layers) {
      return invalid_argument(where + "site '" + in.name + "' has " + std::to_string(in.log2_factors.size()) +
                              " layers (expected " + std::to_string(expected_layers) + " for this model)");
    }
    for (const std::vector<std::int8_t>& layer : in.log2_factors) {
      if (layer.size() != channels) {
        return invalid_argument(where + "site '" + in.name + "' has a layer of " + std::to_string(layer.size()) +
                                " channels (expected " + std::to_string(channels) + ")");
      }
      std::vector<float> s(channels);
      for (std::size_t j = 0; j < channels; ++j) {
        if (std::abs(int{layer[j]}) > 16) {
          return invalid_argument(where + "site '" + in.name + "': log2 factor " + std::to_string(layer[j]) +
                                  " (expected -16 to 16)");
        }
        s[j] = std::ldexp(1.0f, layer[j]);
      }
      layers.push_back(std::move(s));
    }
  }
  for (std::size_t k = 0; k < std::size(kSites); ++k) {
    if ((out.*kSites[k].values).empty() && site_channels(c, k) != 0) {
      return invalid_argument(where + "no site '" + std::string(kSites[k].name) + "'");
    }
  }
  return out;
}

void TensorScaling::apply(std::size_t r, float* row, std::size_t n) const {
  const float rf = rows.empty() ? 1.0f : rows[r];
  if (columns.empty()) {
    for (std::size_t j = 0; j < n; ++j) row[j] *= rf;
    return;
  }
  for (std::size_t j = 0; j < n; ++j) row[j] *= columns[j] * rf;
}

TensorScaling tensor_scaling(const ModelConfig& c, const ChannelValues& s, std::string_view name) {
  // The head: output.weight, or token_embd.weight where it serves as the
  // (tied) head; only the head's int8 import applies scalings, so the
  // embedding lookup keeps the file's rows.
  if (name == "output_norm.weight") return {reciprocals(s.output_input[0]), {}};
  if (name == "output.weight" || name == "token_embd.weight") return {s.output_input[0], {}};
  std::string_view rest;
  const int il = block_of(name, rest);
  if (il < 0 || il >= c.n_layer) return {};
  const auto l = static_cast<std::size_t>(il);
  TensorScaling t;
  if (rest == "attn_norm.weight") {
    t.columns = reciprocals(s.attention_input[l]);
  } else if (rest == "attn_q.weight" || rest == "attn_k.weight") {
    t.columns = s.attention_input[l];
  } else if (rest == "attn_v.weight") {
    // Each value channel takes its group's first query head's factor.
    t.columns = s.attention_input[l];
    const std::size_t hd = static_cast<std::size_t>(c.head_dim);
    const std::size_t group = static_cast<std::size_t>(c.n_head / c.n_head_kv);
    t.rows.resize(static_cast<std::size_t>(c.n_head_kv) * hd);
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      t.rows[i] = 1.0f / s.attention_output[l][(i / hd) * group * hd + i % hd];
    }
  } else if (rest == "attn_output.weight") {
    t.columns = s.attention_output[l];
  } else if (rest == "ffn_norm.weight") {
    t.columns = reciprocals(s.ffn_input[l]);
  } else if (rest == "ffn_gate_inp.weight" || rest == "ffn_gate.weight" || rest == "ffn_gate_exps.weight" ||
             rest == "ffn_up_exps.weight") {
    t.columns = s.ffn_input[l];
  } else if (rest == "ffn_up.weight" && !c.is_moe()) {
    t.columns = s.ffn_input[l];
    t.rows = reciprocals(s.down_input[l]);
  } else if (rest == "ffn_down.weight" && !c.is_moe()) {
    t.columns = s.down_input[l];
  }
  return t;
}

}  // namespace lpu::quant
