// The Engine on a synthetic model: requests of different lengths sharing
// the slots (joining as others leave) get exactly the tokens each gets
// alone, greedy or seeded, on the CPU backend and the simulator; the queue
// is bounded and first come, first served; cancel frees a slot at once;
// the context ends a request with its reason; bad requests are refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "include/lpu/engine.h"
#include "tests/lib/int8/int8_test_util.h"

namespace lpu {
namespace {

EngineOptions options(const std::string& backend, std::uint32_t slots, std::uint32_t ctx = 256) {
  EngineOptions o;
  o.backend = backend;
  o.target = "cpu-host";
  o.slots = slots;
  o.max_context = ctx;
  o.group = 32;
  o.threads = 2;
  return o;
}

std::unique_ptr<Engine> make(const Model& m, const EngineOptions& o) {
  auto e = Engine::create(m, o);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  return e.ok() ? std::move(e).value() : nullptr;
}

// Six requests: prompts from 1 token to more than a prefill chunk (128 on
// cpu-host), greedy and sampled.
std::vector<Request> requests(int n_vocab) {
  const std::size_t lengths[] = {5, 130, 17, 1, 9, 40};
  const int max_tokens[] = {20, 8, 30, 12, 25, 10};
  std::vector<Request> out;
  for (int i = 0; i < 6; ++i) {
    Request r;
    r.prompt = testing::random_tokens(100 + static_cast<std::uint64_t>(i), lengths[i], n_vocab);
    r.max_tokens = max_tokens[i];
    r.ignore_eos = true;
    if (i % 2 == 1) {
      r.sampling.temperature = 0.8f;
      r.sampling.top_k = 20;
      r.sampling.seed = 7 + static_cast<std::uint64_t>(i);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<TokenId> alone(const Model& m, const std::string& backend, const Request& r) {
  auto e = make(m, options(backend, 1));
  auto id = e->submit(r);
  EXPECT_TRUE(id.ok());
  EXPECT_TRUE(e->run().ok());
  return e->output(*id)->tokens;
}

TEST(Engine, ContinuousBatchingGivesEachRequestItsTokensAlone) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const std::vector<Request> rs = requests(m.config().n_vocab);
  std::vector<std::vector<TokenId>> want;
  for (const Request& r : rs) want.push_back(alone(m, "cpu", r));
  for (const std::string backend : {"cpu", "lpu-sim"}) {
    auto e = make(m, options(backend, 4));
    std::vector<RequestId> ids;
    std::vector<std::string> streamed(rs.size());
    for (std::size_t i = 0; i < rs.size(); ++i) {
      auto id = e->submit(rs[i], [&streamed, i](RequestId, TokenId, std::string_view text) { streamed[i] += text; });
      ASSERT_TRUE(id.ok()) << id.status().to_string();
      ids.push_back(*id);
    }
    EXPECT_EQ(e->waiting(), 6u);
    ASSERT_TRUE(e->step().ok());
    EXPECT_EQ(e->running(), 4u);
    EXPECT_EQ(e->waiting(), 2u);
    ASSERT_TRUE(e->run().ok());
    for (std::size_t i = 0; i < rs.size(); ++i) {
      auto out = e->output(ids[i]);
      ASSERT_TRUE(out.ok());
      EXPECT_EQ(out->tokens, want[i]) << backend << " request " << i;
      EXPECT_EQ(out->stop, StopReason::kLength);
      EXPECT_EQ(out->text, streamed[i]);
    }
    const std::vector<std::uint32_t> occ = e->stats().decode_occupancy;
    EXPECT_EQ(*std::max_element(occ.begin(), occ.end()), 4u) << backend;
  }
}

TEST(Engine, TheQueueIsBoundedAndServedInOrder) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  EngineOptions o = options("cpu", 1);
  o.max_waiting = 2;
  auto e = make(m, o);
  Request r;
  r.prompt = {5, 6, 7};
  r.max_tokens = 3;
  r.ignore_eos = true;
  auto a = e->submit(r);
  auto b = e->submit(r);
  auto c = e->submit(r);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(c.status().message().find("max_waiting"), std::string::npos);
  // A prompt shorter than a chunk goes one token per step: three steps.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->step().ok());
  EXPECT_EQ(e->output(*a)->tokens.size(), 1u);  // the first come runs first
  EXPECT_TRUE(e->output(*b)->tokens.empty());
  ASSERT_TRUE(e->run().ok());
  EXPECT_EQ(e->output(*a)->tokens, e->output(*b)->tokens);
}

TEST(Engine, CancelFreesTheSlotAtOnce) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto e = make(m, options("cpu", 1));
  Request longer;
  longer.prompt = {3, 4, 5};
  longer.max_tokens = 100;
  longer.ignore_eos = true;
  Request next = longer;
  next.prompt = {9, 8};
  next.max_tokens = 6;
  auto a = e->submit(longer);
  auto b = e->submit(next);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(e->step().ok());  // 3 prompt tokens, then 2 generated
  EXPECT_EQ(e->running(), 1u);
  ASSERT_TRUE(e->cancel(*a).ok());
  EXPECT_EQ(e->running(), 0u);
  EXPECT_EQ(e->output(*a)->stop, StopReason::kCancelled);
  EXPECT_EQ(e->output(*a)->tokens.size(), 2u);
  ASSERT_TRUE(e->step().ok());
  EXPECT_EQ(e->running(), 1u);  // the waiting request took the slot
  ASSERT_TRUE(e->run().ok());
  EXPECT_EQ(e->output(*b)->tokens, alone(m, "cpu", next));
  EXPECT_FALSE(e->cancel(999).ok());
  EXPECT_TRUE(e->release(*a).ok());
  EXPECT_FALSE(e->output(*a).ok());
}

TEST(Engine, TheContextEndsARequestWithItsReason) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto e = make(m, options("cpu", 1, 128));
  Request r;
  r.prompt = testing::random_tokens(5, 120, m.config().n_vocab);
  r.max_tokens = 100;
  r.ignore_eos = true;
  auto id = e->submit(r);
  ASSERT_TRUE(e->run().ok());
  // Positions 120..127 take 8 fed tokens; the ninth needs no position.
  EXPECT_EQ(e->output(*id)->tokens.size(), 9u);
  EXPECT_EQ(e->output(*id)->stop, StopReason::kContext);
  EXPECT_STREQ(stop_reason_name(StopReason::kContext), "context");
}

// A saved Program is reused as it is, and refused, with both hashes or the
// target named, for another model or target; a damaged file names itself.
TEST(Engine, RunsASavedProgramAndRefusesAForeignOne) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const Model moe = testing::load_model(testing::synthetic_model_path("tiny-moe"));
  CompileOptions c;
  c.slots = 1;
  c.max_context = 256;
  c.group = 32;
  auto program = compile_program(m, "cpu-host", c);
  ASSERT_TRUE(program.ok()) << program.status().to_string();
  const std::string path = ::testing::TempDir() + "engine_saved.lpuprog";
  ASSERT_TRUE(program->save(path).ok());
  EngineOptions o = options("cpu", 1);
  o.program = path;
  auto e = make(m, o);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->program().hash(), program->hash());
  Request r;
  r.prompt = {4, 8, 15, 16, 23, 42};
  r.max_tokens = 12;
  r.ignore_eos = true;
  auto id = e->submit(r);
  ASSERT_TRUE(e->run().ok());
  EXPECT_EQ(e->output(*id)->tokens, alone(m, "cpu", r));
  auto other_model = Engine::create(moe, o);
  ASSERT_FALSE(other_model.ok());
  EXPECT_NE(other_model.status().message().find("compiled for model"), std::string::npos)
      << other_model.status().to_string();
  o.target = "tiny";
  auto other_target = Engine::create(m, o);
  ASSERT_FALSE(other_target.ok());
  EXPECT_NE(other_target.status().message().find("compiled for target 'cpu-host'"), std::string::npos)
      << other_target.status().to_string();
  o.target = "cpu-host";
  o.program = ::testing::TempDir() + "engine_missing.lpuprog";
  auto missing = Engine::create(m, o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("engine_missing.lpuprog"), std::string::npos) << missing.status().to_string();
}

TEST(Engine, BadRequestsAreRefused) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto e = make(m, options("cpu", 1, 128));
  Request r;
  EXPECT_NE(e->submit(r).status().message().find("empty prompt"), std::string::npos);
  r.prompt = {1, m.config().n_vocab};
  EXPECT_NE(e->submit(r).status().message().find("prompt token 1 has id"), std::string::npos);
  r.prompt = testing::random_tokens(1, 129, m.config().n_vocab);
  EXPECT_NE(e->submit(r).status().message().find("does not fit the context of 128"), std::string::npos);
  r.prompt = {1};
  r.max_tokens = 0;
  EXPECT_NE(e->submit(r).status().message().find("max_tokens 0"), std::string::npos);
  r.max_tokens = 1;
  r.sampling.top_p = 2.0f;
  EXPECT_NE(e->submit(r).status().message().find("top_p"), std::string::npos);
  EngineOptions o = options("gpu", 1);
  EXPECT_FALSE(Engine::create(m, o).ok());
  EXPECT_EQ(e->waiting(), 0u);
}

}  // namespace
}  // namespace lpu
