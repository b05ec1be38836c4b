// The lower bound of Llama-2-7B layer 0's ops on tsp-v1, four chips per
// stage, decode of one row at the 4096-token bucket, against values worked
// out by hand from the published figures (docs/lower-bound.md):
//   tsp-v1: 4 planes of 320 x 320, K tile 320 = G, 2560 B/cycle of weight
//   load per plane (= one bank's read rate), 102,400 MACs per plane-cycle,
//   2 tiles of weight buffer, 5,120 vector ops/cycle, 16.7 B/cycle per
//   link, hop 216 cycles; banks stream 2560 B/cycle each way; the "mem"
//   pool is 22 cycles from the vector unit
//   and 24 from the matrix unit; pipelines: vector 8, matrix 20.
// A tiled block of c columns and a K segment of len is ceil(c/16) panels
// of (64 + 64 ceil(len/4)) bytes.
#include <gtest/gtest.h>

#include "lib/compiler/lower_bound.h"
#include "lib/target/target.h"

namespace lpu::compiler {
namespace {

class Llama7bLayer : public ::testing::Test {
 protected:
  void SetUp() override {
    t_ = *target::target_preset("tsp-v1");
    m_ = model_input_from_config(*shape_preset("llama-2-7b"));
    s_.group = 320;
    s_.row_group = 128;
    s_.context = 4096;
    s_.slots = 1;
    s_.max_rows = 1;
    s_.prefill_chunk = 1;
    p_.tp = 4;
    p_.stages = 1;
    p_.chips = p_.chips_used = 4;
    p_.stage_of_item.assign(34, 0);
    g_ = *graph::build_step_graph(m_.config, {1, 4096, false});
    lower_bound(g_, m_, t_, s_, p_, &per_op_);
  }
  std::uint64_t op(const std::string& name) const {
    for (std::size_t i = 0; i < g_.ops.size(); ++i) {
      if (g_.ops[i].name == name) return per_op_[i].cycles;
    }
    ADD_FAILURE() << "no op " << name;
    return 0;
  }
  target::Target t_;
  ModelInput m_;
  Shapes s_;
  Partition p_;
  graph::Graph g_;
  std::vector<OpBound> per_op_;
};

TEST_F(Llama7bLayer, RmsNormIsItsSramStreamPlusThePipeline) {
  // 4 ops x 4096 elements / 5120 per cycle = 3.2 -> 4 cycles of ALU work,
  // but 4096 floats = 16384 bytes at one bank's 2560 B/cycle take 7;
  // then the pipeline's (8 + 22) - 22.
  EXPECT_EQ(op("blk.0.attn_norm"), 7u + 8u);
}

TEST_F(Llama7bLayer, QkvIsWeightLoadingBeyondThePreloadPlusTheGather) {
  // Chip 0 holds 12288 / 4 = 3072 columns, 768 per plane: tiles of 320,
  // 320 and 128 columns, K in 12 segments of 320 and one of 256.
  const std::uint64_t full = 12 * (20 * (64 + 64 * 80)) + 20 * (64 + 64 * 64);  // 1,327,360
  const std::uint64_t last = 12 * (8 * (64 + 64 * 80)) + 8 * (64 + 64 * 64);    //   530,944
  const std::uint64_t bytes = 2 * full + last;                                    // 3,185,664
  const std::uint64_t load = (bytes + 2559) / 2560;                               // 1245
  // The buffer's 2 blocks, and one more that may stream in while the
  // slot it fills is still read (a load need only land after the reads).
  const std::uint64_t preload = (3 * 20 * (64 + 64 * 80) + 2559) / 2560;          // 122
  const std::uint64_t matmul = load - preload + 20;  // + (20 + 24) - 24
  // Each chip's 3072 columns x 4 bytes to the other three, one link each:
  // 12288 / 16.7 = 735 cycles, after one hop of 216.
  EXPECT_EQ(op("blk.0.qkv"), matmul + 216 + 735);
  EXPECT_EQ(op("blk.0.qkv"), 2094u);
}

TEST_F(Llama7bLayer, AttentionIsItsCacheLoadingPlusTheGather) {
  // Chip 0 holds 8 KV heads: 8 (row, head) units. Keys: 4096 positions x
  // 128 per unit, 1024 positions per plane (3 tiles of 320, one of 64).
  const std::uint64_t k_bytes = 8 * (3 * 20 * (64 + 64 * 32) + 4 * (64 + 64 * 32));  // 1,081,344
  // Values: 128 dimensions, 32 per plane, K = 4096 positions (12 x 320 + 256).
  const std::uint64_t v_bytes = 8 * (12 * 2 * (64 + 64 * 80) + 2 * (64 + 64 * 64));  // 1,061,888
  const std::uint64_t load = (k_bytes + 2559) / 2560 + (v_bytes + 2559) / 2560;      // 423 + 415
  const std::uint64_t preload = 122;
  const std::uint64_t attention = load - preload + 20;
  // Outputs: 8 heads x 128 x 4 bytes = 4096 bytes: 245 cycles after 216.
  EXPECT_EQ(op("blk.0.attn"), attention + 216 + 245);
  EXPECT_EQ(op("blk.0.attn"), 1197u);
}

TEST_F(Llama7bLayer, TheStepBoundIsAtLeastEveryOpsBound) {
  const Bound b = lower_bound(g_, m_, t_, s_, p_);
  std::uint64_t sum = 0;
  for (const OpBound& o : per_op_) sum += o.cycles;
  EXPECT_GE(b.cycles(), b.critical_path);
  EXPECT_LE(b.critical_path, sum);
  EXPECT_GT(b.critical_path, 32u * 2094u);  // 32 layers, each with a qkv at least
}

}  // namespace
}  // namespace lpu::compiler

namespace lpu::compiler {
namespace {

// The whole of layer 0, op by op, worked out the same way:
//   attn_norm 15; attn_norm.q 15 (16,384 B in at 2,560 B/cycle -> 7, + 8);
//   qkv 2,094; rope 18 (6 x 64 heads x 128 = 49,152 ops -> 10, + 8);
//   kv_append 24 (16 appends of 512 ops, 1 cycle each, + 8); attn 1,197;
//   attn.q 15;
//   attn_output 774: 1,024 columns per chip, one 256-column tile per plane,
//     12 x 16 x 5,184 + 16 x 4,160 = 1,061,888 B -> 415, - 122 + 20 = 313,
//     + 216 + 4,096 B / 16.7 -> 245;
//   attn_residual 15; ffn_norm 15; ffn_norm.q 15;
//   ffn_gate_up 3,662: 22,016 columns, 5,504 per chip, 1,376 per plane
//     (4 x 320 + 96): 4 x 1,327,360 + 12 x 6 x 5,184 + 6 x 4,160 =
//     5,707,648 B -> 2,230, - 122 + 20 = 2,128, + 216 + 22,016 B / 16.7 ->
//     1,318;
//   ffn_silu 43 (88,064 B in -> 35, + 8); ffn_silu.q 26 (44,032 B -> 18, + 8);
//   ffn_down 1,474: K = 11,008 in 34 x 320 + 128: 34 x 82,944 + 16 x 2,112 =
//     2,853,888 B -> 1,115, - 122 + 20 = 1,013, + 461;
//   ffn_residual 15.
TEST_F(Llama7bLayer, OneWholeLayerEqualsTheHandSum) {
  std::uint64_t layer = 0;
  for (std::size_t i = 0; i < g_.ops.size(); ++i) {
    if (g_.ops[i].layer == 0) layer += per_op_[i].cycles;
  }
  EXPECT_EQ(layer, 9417u);
}

}  // namespace
}  // namespace lpu::compiler
