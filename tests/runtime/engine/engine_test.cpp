// The Engine on a synthetic model: requests of different lengths sharing
// the slots (joining as others leave) get exactly the tokens each gets
// alone, greedy or seeded, on the CPU backend and the simulator; the queue
// is bounded and first come, first served; cancel frees a slot at once;
// the context ends a request with its reason; bad requests are refused.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "include/lpu/engine.h"
#include "lib/metrics/metrics.h"
#include "lib/program/container.h"
#include "lib/program/format_internal.h"
#include "tests/lib/int8/int8_test_util.h"
#include "tests/testing/test_paths.h"

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
  o.record_steps = true;
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
      auto id = e->submit(rs[i], [&streamed, i](const TokenEvent& ev) { streamed[i] += ev.text; });
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
  // A 3-token prompt: a 2-row tail prefill, then a decode step.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(e->step().ok());
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
  // The 3-token prompt in two steps (2 rows, then 1, which gives the first
  // token), then one more token.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->step().ok());
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
  o.group = 0;  // the Program fixes G
  auto e = make(m, o);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->program().hash(), program->hash());
  const std::vector<ProgramVariant> variants = program->variants();
  const auto largest = std::max_element(variants.begin(), variants.end(), [](const ProgramVariant& a, const ProgramVariant& b) {
    return std::make_tuple(!a.prefill, a.context) < std::make_tuple(!b.prefill, b.context);
  });
  EXPECT_EQ(largest->name, "decode.ctx256");
  EXPECT_EQ(e->program().decode_latency_cycles(), largest->static_latency_cycles);
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
  EXPECT_NE(e->submit(r).status().message().find("no prompt"), std::string::npos);
  r.text = "a";
  r.prompt = {1};
  EXPECT_NE(e->submit(r).status().message().find("more than one way"), std::string::npos);
  r.text.clear();
  r.prompt = {1, m.config().n_vocab};
  EXPECT_NE(e->submit(r).status().message().find("prompt token 1 has id"), std::string::npos);
  r.prompt = testing::random_tokens(1, 129, m.config().n_vocab);
  EXPECT_NE(e->submit(r).status().message().find("does not fit the context of 128"), std::string::npos);
  r.prompt = {1};
  r.max_tokens = -1;
  EXPECT_NE(e->submit(r).status().message().find("max_tokens -1"), std::string::npos);
  r.max_tokens = 1;
  r.sampling.top_p = 2.0f;
  EXPECT_NE(e->submit(r).status().message().find("top_p"), std::string::npos);
  EngineOptions o = options("gpu", 1);
  EXPECT_FALSE(Engine::create(m, o).ok());
  EXPECT_EQ(e->waiting(), 0u);
}

// Every request gets exactly one event with its stop reason, the last; the
// events' text is the output's text, also for a cancelled request.
TEST(Engine, CallbacksEndWithOneStopEvent) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto e = make(m, options("cpu", 2));
  std::vector<Request> rs = requests(m.config().n_vocab);
  rs[0].stop = {"\x01never"};  // a stop string that holds nothing back
  std::vector<std::vector<TokenEvent>> events(2);
  std::vector<RequestId> ids;
  for (std::size_t i = 0; i < 2; ++i) {
    auto id = e->submit(rs[i], [&events, i](const TokenEvent& ev) { events[i].push_back(ev); });
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  // A chunk of 128, then a 2-row tail: after one step the 130-token prompt
  // is still being read.
  ASSERT_TRUE(e->step().ok());
  ASSERT_TRUE(e->cancel(ids[1]).ok());
  ASSERT_TRUE(e->run().ok());
  for (std::size_t i = 0; i < 2; ++i) {
    const RequestOutput out = *e->output(ids[i]);
    ASSERT_FALSE(events[i].empty());
    std::string text;
    std::size_t stops = 0;
    for (const TokenEvent& ev : events[i]) {
      EXPECT_EQ(ev.id, ids[i]);
      text += ev.text;
      stops += ev.stop != StopReason::kNone;
    }
    EXPECT_EQ(stops, 1u) << i;
    EXPECT_EQ(events[i].back().stop, out.stop) << i;
    EXPECT_EQ(text, out.text) << i;
  }
  EXPECT_EQ(e->output(ids[0])->stop, StopReason::kLength);
  EXPECT_EQ(events[0].size(), static_cast<std::size_t>(rs[0].max_tokens));
  EXPECT_EQ(events[1].size(), 1u);
  EXPECT_EQ(events[1].back().token, kNoToken);
  EXPECT_EQ(events[1].back().stop, StopReason::kCancelled);
}

// A callback that cancels another request mid-step: that request's stop
// event still comes after every event of its own, on the stepping thread.
TEST(Engine, ACancelInsideACallbackKeepsTheOtherRequestsEventsInOrder) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto e = make(m, options("cpu", 2));
  Request r;
  r.prompt = {3, 4, 5};
  r.max_tokens = 20;
  r.ignore_eos = true;
  std::vector<TokenEvent> b_events;
  RequestId b = 0;
  int a_tokens = 0;
  auto a = e->submit(r, [&](const TokenEvent& ev) {
    if (++a_tokens == 2) EXPECT_TRUE(e->cancel(b).ok());
  });
  auto bid = e->submit(r, [&](const TokenEvent& ev) { b_events.push_back(ev); });
  ASSERT_TRUE(a.ok() && bid.ok());
  b = *bid;
  ASSERT_TRUE(e->run().ok());
  ASSERT_FALSE(b_events.empty());
  EXPECT_EQ(b_events.back().stop, StopReason::kCancelled);
  for (std::size_t i = 0; i + 1 < b_events.size(); ++i) EXPECT_EQ(b_events[i].stop, StopReason::kNone) << i;
  EXPECT_EQ(e->output(*a)->tokens.size(), 20u);
}

// Move-assigning a stream cancels the request it held.
TEST(Engine, MoveAssigningAStreamCancelsItsOldRequest) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto e = make(m, options("cpu", 2));
  const std::vector<Request> rs = requests(m.config().n_vocab);
  auto first = e->stream(rs[0]);
  auto second = e->stream(rs[2]);
  ASSERT_TRUE(first.ok() && second.ok());
  const RequestId old_id = first->id();
  *first = std::move(*second);
  EXPECT_FALSE(e->output(old_id).ok());  // cancelled and released
  std::vector<TokenId> tokens;
  for (const TokenEvent& ev : *first) {
    if (ev.token != kNoToken) tokens.push_back(ev.token);
  }
  EXPECT_EQ(tokens, alone(m, "cpu", rs[2]));
}

// A stream read one event at a time (the stream steps the Engine itself)
// gives the request's solo tokens; destroying a stream cancels its request.
TEST(Engine, StreamsEventsThroughAnIterator) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const std::vector<Request> rs = requests(m.config().n_vocab);
  auto e = make(m, options("cpu", 2));
  auto s = e->stream(rs[2]);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  {
    auto other = e->stream(rs[0]);  // shares the steps, then is dropped
    ASSERT_TRUE(other.ok());
    auto first = other->next();
    ASSERT_TRUE(first.ok() && first->has_value());
  }
  std::vector<TokenId> tokens;
  std::string text;
  StopReason last = StopReason::kNone;
  for (const TokenEvent& ev : *s) {
    if (ev.token != kNoToken) tokens.push_back(ev.token);
    text += ev.text;
    last = ev.stop;
  }
  ASSERT_TRUE(s->status().ok()) << s->status().to_string();
  EXPECT_EQ(tokens, alone(m, "cpu", rs[2]));
  EXPECT_EQ(last, StopReason::kLength);
  EXPECT_EQ(text, s->output()->text);
  auto after = s->next();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());
  EXPECT_EQ(e->running() + e->waiting(), 0u);
}

// With a background thread, streams read from many threads at once get
// each request's solo tokens.
TEST(Engine, BackgroundThreadServesConcurrentStreams) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const std::vector<Request> rs = requests(m.config().n_vocab);
  std::vector<std::vector<TokenId>> want;
  for (const Request& r : rs) want.push_back(alone(m, "cpu", r));
  EngineOptions o = options("cpu", 3);
  o.background = true;
  auto e = make(m, o);
  std::vector<std::vector<TokenId>> got(rs.size());
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    clients.emplace_back([&, i] {
      auto s = e->stream(rs[i]);
      if (!s.ok()) return;
      for (const TokenEvent& ev : *s) {
        if (ev.token != kNoToken) got[i].push_back(ev.token);
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (std::size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(got[i], want[i]) << "request " << i;
}

// A prompt as text is the tokenizer's encoding of it; chat messages need a
// chat template, and a model without one is named.
TEST(Engine, PromptsFromTextAndMessages) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto e = make(m, options("cpu", 1));
  const Tokenizer& tok = e->tokenizer();
  Request by_text;
  by_text.text = "the cat sat";
  by_text.max_tokens = 5;
  by_text.ignore_eos = true;
  Request by_ids = by_text;
  by_ids.text.clear();
  by_ids.prompt = *tok.encode("the cat sat", {.add_bos = tok.default_add_bos()});
  auto a = e->submit(by_text);
  auto b = e->submit(by_ids);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(e->run().ok());
  EXPECT_EQ(e->output(*a)->prompt_tokens, by_ids.prompt.size());
  EXPECT_EQ(e->output(*a)->tokens, e->output(*b)->tokens);
  Request chat;
  chat.messages = {{"user", "hi"}};
  auto c = e->submit(chat);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("no tokenizer.chat_template"), std::string::npos) << c.status().to_string();
  EXPECT_NE(c.status().message().find(m.path()), std::string::npos) << c.status().to_string();
}

TEST(Engine, ChatMessagesUseTheModelsTemplate) {
  const auto path = testing::smollm2_q4_1_path();
  LPU_REQUIRE_FILE(path, "SmolLM2");
  const Model m = testing::load_model(path);
  EngineOptions o = options("cpu", 1, 128);
  o.group = 0;
  // The prompt is the point here; calibrating SmolLM2's weight transforms
  // would only slow this test (minutes under AddressSanitizer).
  o.smoothing = false;
  o.rotation = false;
  auto e = make(m, o);
  ASSERT_NE(e, nullptr);
  const std::vector<ChatMessage> messages = {{"system", "Be brief."}, {"user", "Name a colour."}};
  Request chat;
  chat.messages = messages;
  chat.max_tokens = 4;
  Request ids = chat;
  ids.messages.clear();
  ids.prompt = *chat_prompt(m, e->tokenizer(), messages);
  auto a = e->submit(chat);
  auto b = e->submit(ids);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().to_string();
  ASSERT_TRUE(e->run().ok());
  EXPECT_EQ(e->output(*a)->prompt_tokens, ids.prompt.size());
  EXPECT_EQ(e->output(*a)->tokens, e->output(*b)->tokens);
  EXPECT_FALSE(e->output(*a)->tokens.empty());
}

// on_logits sees every prompt row (a whole chunk, then the tail a row at a
// time) and the row each token is chosen from; max_tokens 0 reads the
// prompt only. Greedy tokens are those rows' argmax, and the rows are the
// same bits on another slot count.
TEST(Engine, OnLogitsSeesEveryRow) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const int nv = m.config().n_vocab;
  std::vector<std::vector<float>> rows_by_slots;
  for (std::uint32_t slots : {1u, 3u}) {
    EngineOptions o = options("cpu", slots);
    o.all_logits = true;
    auto e = make(m, o);
    Request r;
    r.prompt = testing::random_tokens(5, 130, nv);
    r.max_tokens = 4;
    r.ignore_eos = true;
    std::vector<float> rows;
    r.on_logits = [&rows](std::span<const float> got) { rows.insert(rows.end(), got.begin(), got.end()); };
    Request scan = r;
    scan.max_tokens = 0;
    std::vector<float> scan_rows;
    scan.on_logits = [&scan_rows](std::span<const float> got) { scan_rows.insert(scan_rows.end(), got.begin(), got.end()); };
    auto id = e->submit(r);
    auto scan_id = e->submit(scan);
    ASSERT_TRUE(id.ok() && scan_id.ok());
    ASSERT_TRUE(e->run().ok());
    const RequestOutput out = *e->output(*id);
    ASSERT_EQ(rows.size(), (130u + 3u) * static_cast<std::size_t>(nv));
    for (std::size_t t = 0; t < out.tokens.size(); ++t) {
      const std::span<const float> row(rows.data() + (129 + t) * nv, nv);
      EXPECT_EQ(metrics::argmax(row), out.tokens[t]) << t;
    }
    EXPECT_TRUE(e->output(*scan_id)->tokens.empty());
    EXPECT_EQ(e->output(*scan_id)->stop, StopReason::kLength);
    ASSERT_EQ(scan_rows.size(), 130u * nv);
    EXPECT_TRUE(std::equal(scan_rows.begin(), scan_rows.end(), rows.begin()));
    rows_by_slots.push_back(std::move(rows));
  }
  EXPECT_TRUE(rows_by_slots[0] == rows_by_slots[1]);
}

// A saved Program of another format version (an older compiler) is
// refused, naming the file and the version.
TEST(Engine, RefusesAStaleProgram) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  CompileOptions c;
  c.slots = 1;
  c.max_context = 128;
  c.group = 32;
  auto program = compile_program(m, "cpu-host", c);
  ASSERT_TRUE(program.ok());
  const std::string path = ::testing::TempDir() + "engine_stale.lpuprog";
  ASSERT_TRUE(program->save(path).ok());
  std::ifstream in(path, std::ios::binary);
  const std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto raw = program::uncompress_program(file, path);
  ASSERT_TRUE(raw.ok());
  (*raw)[program::internal::kMajorAt] = 1;  // format 1.x: what an older compiler wrote
  const std::vector<std::uint8_t> stale = program::compress_program(*raw);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(stale.data()),
                                                                 static_cast<std::streamsize>(stale.size()));
  EngineOptions o = options("cpu", 1);
  o.program = path;
  o.group = 0;
  auto e = Engine::create(m, o);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("engine_stale.lpuprog"), std::string::npos) << e.status().to_string();
  EXPECT_NE(e.status().message().find("version"), std::string::npos) << e.status().to_string();
}

}  // namespace
}  // namespace lpu
