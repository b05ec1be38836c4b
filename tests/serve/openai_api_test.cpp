// lpu-serve's wire format without a network: request fields and their
// errors, finish reasons, Engine refusals mapped to HTTP statuses, stream
// chunks, the constant-time key comparison and the Prometheus text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "examples/serve/metrics.h"
#include "examples/serve/openai_api.h"
#include "tests/testing/test_paths.h"

namespace lpu::serve {
namespace {

using json = nlohmann::json;

const ServedModel kModel{"m", 256};

std::optional<ApiError> parse(Endpoint e, const json& body, ParsedRequest& out) {
  return parse_request(e, body.dump(), kModel, out);
}

TEST(OpenAiApi, ACompletionRequestBecomesAnEngineRequest) {
  ParsedRequest p;
  const json body = {{"model", "m"}, {"prompt", "hi"}, {"max_tokens", 7}, {"temperature", 0.5}, {"top_p", 0.9},
                     {"top_k", 3}, {"min_p", 0.1}, {"seed", 42}, {"stop", {"a", "b"}}, {"presence_penalty", 0.5},
                     {"frequency_penalty", -0.5}, {"logprobs", 2}, {"stream", true},
                     {"stream_options", {{"include_usage", true}}}, {"user", "ignored"}};
  ASSERT_FALSE(parse(Endpoint::kCompletions, body, p).has_value());
  EXPECT_EQ(p.request.text, "hi");
  EXPECT_EQ(p.request.max_tokens, 7);
  EXPECT_FLOAT_EQ(p.request.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(p.request.sampling.top_p, 0.9f);
  EXPECT_EQ(p.request.sampling.top_k, 3);
  EXPECT_FLOAT_EQ(p.request.sampling.min_p, 0.1f);
  EXPECT_EQ(p.request.sampling.seed, 42u);
  EXPECT_EQ(p.request.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_FLOAT_EQ(p.request.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(p.request.sampling.frequency_penalty, -0.5f);
  EXPECT_TRUE(p.logprobs);
  EXPECT_EQ(p.request.sampling.top_logprobs, 2);
  EXPECT_TRUE(p.stream && p.include_usage);
}

TEST(OpenAiApi, PromptsAsTokenIdsAndChatMessagesWithParts) {
  ParsedRequest p;
  ASSERT_FALSE(parse(Endpoint::kCompletions, {{"prompt", {1, 2, 3}}}, p).has_value());
  EXPECT_EQ(p.request.prompt, (std::vector<TokenId>{1, 2, 3}));
  EXPECT_EQ(p.request.max_tokens, 16);  // the completions default
  const json messages = json::array({{{"role", "developer"}, {"content", "be kind"}},
                                     {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "a"}},
                                                                     {{"type", "text"}, {"text", "b"}}}}}});
  ASSERT_FALSE(parse(Endpoint::kChatCompletions, {{"messages", messages}, {"max_completion_tokens", 9}}, p).has_value());
  ASSERT_EQ(p.request.messages.size(), 2u);
  EXPECT_EQ(p.request.messages[0].role, "system");
  EXPECT_EQ(p.request.messages[1].content, "ab");
  EXPECT_EQ(p.request.max_tokens, 9);
}

TEST(OpenAiApi, BadFieldsAreNamed) {
  struct Case {
    Endpoint e;
    json body;
    int status;
    std::string param;
  };
  const json msg = json::array({{{"role", "user"}, {"content", "x"}}});
  const std::vector<Case> cases = {
      {Endpoint::kCompletions, {{"prompt", 3}}, 400, "prompt"},
      {Endpoint::kCompletions, {{"prompt", ""}}, 400, "prompt"},
      {Endpoint::kCompletions, {{"prompt", {"a", "b"}}}, 400, "prompt"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"model", "other"}}, 404, "model"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"model", 5}}, 400, "model"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"max_tokens", 0}}, 400, "max_tokens"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"max_tokens", 1.5}}, 400, "max_tokens"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"max_tokens", 1e12}}, 400, "max_tokens"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"temperature", -1}}, 400, "temperature"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"top_p", 0}}, 400, "top_p"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"top_k", -1}}, 400, "top_k"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"seed", "7"}}, 400, "seed"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"stop", {"a", "b", "c", "d", "e"}}}, 400, "stop"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"stop", ""}}, 400, "stop"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"logprobs", 6}}, 400, "logprobs"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"echo", true}}, 400, "echo"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"n", 3}}, 400, "n"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"stream", "yes"}}, 400, "stream"},
      {Endpoint::kCompletions, {{"prompt", "x"}, {"stream_options", {{"include_usage", true}}}}, 400, "stream_options"},
      {Endpoint::kChatCompletions, json::object(), 400, "messages"},
      {Endpoint::kChatCompletions, {{"messages", json::array()}}, 400, "messages"},
      {Endpoint::kChatCompletions, {{"messages", {{{"role", "user"}}}}}, 400, "messages[0].content"},
      {Endpoint::kChatCompletions, {{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}}, 400,
       "messages[0].content[0]"},
      {Endpoint::kChatCompletions, {{"messages", msg}, {"top_logprobs", 2}}, 400, "top_logprobs"},
      {Endpoint::kChatCompletions, {{"messages", msg}, {"presence_penalty", 3}}, 400, "presence_penalty"},
  };
  for (const Case& c : cases) {
    ParsedRequest p;
    auto e = parse(c.e, c.body, p);
    ASSERT_TRUE(e.has_value()) << c.body.dump();
    EXPECT_EQ(e->http_status, c.status) << c.body.dump();
    EXPECT_EQ(e->param, c.param) << c.body.dump() << ": " << e->message;
    EXPECT_NE(e->message.find(c.param.substr(0, c.param.find('['))), std::string::npos) << e->message;
    const json err = json::parse(error_body(*e))["error"];
    EXPECT_EQ(err["param"], c.param);
  }
  ParsedRequest p;
  EXPECT_EQ(parse_request(Endpoint::kCompletions, "{\"prompt\":", kModel, p)->message, "the body is not valid JSON");
  EXPECT_EQ(parse_request(Endpoint::kCompletions, "[]", kModel, p)->http_status, 400);
}

TEST(OpenAiApi, EngineRefusalsMapToStatuses) {
  EXPECT_EQ(engine_error(resource_exhausted("full"), Endpoint::kCompletions).http_status, 429);
  const ApiError ctx = engine_error(out_of_range("request: a prompt of 900 tokens does not fit the context of 256"),
                                    Endpoint::kChatCompletions);
  EXPECT_EQ(ctx.http_status, 400);
  EXPECT_EQ(ctx.code, "context_length_exceeded");
  EXPECT_EQ(ctx.param, "messages");
  EXPECT_EQ(engine_error(internal_error("boom"), Endpoint::kCompletions).http_status, 500);
  EXPECT_STREQ(finish_reason(StopReason::kEndOfGeneration), "stop");
  EXPECT_STREQ(finish_reason(StopReason::kStopString), "stop");
  EXPECT_STREQ(finish_reason(StopReason::kLength), "length");
  EXPECT_STREQ(finish_reason(StopReason::kContext), "length");
  EXPECT_EQ(finish_reason(StopReason::kCancelled), nullptr);
}

TEST(OpenAiApi, ErrorBodiesSurviveInvalidUtf8) {
  const std::string body = error_body({400, std::string("bad \xff\xfe bytes"), "invalid_request_error", "prompt", ""});
  EXPECT_TRUE(json::parse(body)["error"]["message"].is_string());
}

TEST(OpenAiApi, KeysCompareWholly) {
  EXPECT_TRUE(constant_time_equal("sesame", "sesame"));
  EXPECT_FALSE(constant_time_equal("sesame", "sesamf"));
  EXPECT_FALSE(constant_time_equal("sesame", "sesam"));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(OpenAiApi, ChatStreamOpensTheTurnAndEndsWithTheReason) {
  const auto path = testing::stories260k_path();
  LPU_REQUIRE_FILE(path, "stories260K");
  auto tok = Tokenizer::from_gguf(path.string());
  ASSERT_TRUE(tok.ok());
  ParsedRequest p;
  p.endpoint = Endpoint::kChatCompletions;
  ResponseBuilder b(p, *tok, "chatcmpl-1", "m", 100);
  TokenEvent ev;
  ev.token = 5;
  ev.text = "Hi";
  const std::string first = b.stream_chunk(ev);
  ASSERT_EQ(first.rfind("data: ", 0), 0u);
  const auto blank = first.find("\n\n");
  const json open = json::parse(first.substr(6, blank - 6));
  EXPECT_EQ(open["object"], "chat.completion.chunk");
  EXPECT_EQ(open["choices"][0]["delta"]["role"], "assistant");
  const json token = json::parse(first.substr(blank + 2 + 6));
  EXPECT_EQ(token["choices"][0]["delta"]["content"], "Hi");
  EXPECT_TRUE(token["choices"][0]["finish_reason"].is_null());
  TokenEvent last;
  last.stop = StopReason::kEndOfGeneration;
  const std::string end = b.stream_chunk(last);
  const json fin = json::parse(end.substr(6));
  EXPECT_EQ(fin["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(fin["choices"][0]["delta"], json::object());
  const json usage = json::parse(b.usage_chunk(3, 4).substr(6));
  EXPECT_EQ(usage["usage"]["total_tokens"], 7);
  EXPECT_TRUE(usage["choices"].empty());
  RequestOutput out;
  out.prompt_tokens = 3;
  out.tokens = {5, 6};
  out.text = "Hi there";
  out.stop = StopReason::kLength;
  const json whole = b.final_response(out);
  EXPECT_EQ(whole["object"], "chat.completion");
  EXPECT_EQ(whole["choices"][0]["message"]["content"], "Hi there");
  EXPECT_EQ(whole["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(whole["usage"]["completion_tokens"], 2);
}

TEST(Metrics, HistogramsAreCumulative) {
  Metrics m;
  m.time_to_first_token(0.003);
  m.time_to_first_token(0.2);
  m.request_done("/v1/completions", 200);
  m.request_done("/v1/completions", 429);
  m.step(0.01, 3);
  const std::string text = m.render({1, 64, 2, 4, 0.0});
  EXPECT_NE(text.find("lpu_time_to_first_token_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lpu_time_to_first_token_seconds_bucket{le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lpu_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lpu_time_to_first_token_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(text.find("lpu_requests_total{endpoint=\"/v1/completions\",status=\"429\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("lpu_queue_depth 1\n"), std::string::npos);
  EXPECT_NE(text.find("lpu_decode_rows_total 3\n"), std::string::npos);
  EXPECT_EQ(text.find("lpu_static_token_latency_seconds"), std::string::npos);  // cpu-host: none
}

}  // namespace
}  // namespace lpu::serve
