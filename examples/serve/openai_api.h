#pragma once
// The OpenAI-compatible wire format of lpu-serve: request bodies parsed
// into an lpu::Request (every field checked, errors naming it), and the
// JSON of responses, stream chunks and errors. No network here.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <lpu/lpu.h>

namespace lpu::serve {

enum class Endpoint { kCompletions, kChatCompletions };

/// An OpenAI-style error: the HTTP status and the body's fields.
struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  /// The request field at fault, or empty.
  std::string param;
  /// e.g. "model_not_found", "context_length_exceeded", or empty.
  std::string code;
};

/// {"error": {"message", "type", "param", "code"}}.
std::string error_body(const ApiError& e);

/// A parsed request: what the Engine runs and how to answer.
struct ParsedRequest {
  Endpoint endpoint = Endpoint::kCompletions;
  lpu::Request request;
  bool stream = false;
  bool include_usage = false;
  /// Completions: logprobs = n (0..5) alternatives; chat: logprobs true and
  /// top_logprobs n (0..20).
  bool logprobs = false;
  int top_logprobs = 0;
};

struct ServedModel {
  /// The id clients name in "model" (GET /v1/models lists it).
  std::string id;
  /// Tokens of the Engine's context: longer prompts are refused.
  std::uint32_t max_context = 0;
};

/// Checks and converts a request body. Unknown fields are ignored, as the
/// OpenAI API does; known ones must have the documented type and range.
std::optional<ApiError> parse_request(Endpoint endpoint, std::string_view body, const ServedModel& model,
                                      ParsedRequest& out);

/// The HTTP status and error for an Engine refusal (submit/stream).
ApiError engine_error(const Status& s, Endpoint endpoint);

/// "stop" (end of generation, a stop string) or "length" (max_tokens, the
/// context); cancelled and errored requests have no finish reason here.
const char* finish_reason(StopReason r);

/// Builds one response's JSON from the events of a request.
class ResponseBuilder {
 public:
  ResponseBuilder(const ParsedRequest& request, const Tokenizer& tokenizer, std::string id, std::string model,
                  std::int64_t created);

  /// The whole (non-streamed) response once the request is done.
  nlohmann::json final_response(const RequestOutput& out) const;
  /// A stream chunk for one event ("data: ...\n\n" lines). The first chunk
  /// of a chat stream also opens the assistant turn; the last (stop set)
  /// carries the finish reason.
  std::string stream_chunk(const TokenEvent& event);
  /// With stream_options.include_usage: the usage chunk before [DONE].
  std::string usage_chunk(std::size_t prompt_tokens, std::size_t completion_tokens) const;

 private:
  nlohmann::json envelope(const char* object) const;
  nlohmann::json logprobs_of_event(const TokenEvent& event);
  nlohmann::json token_logprob(TokenId token, float logprob, const std::vector<TokenLogprob>& top) const;
  std::string piece(TokenId token) const;

  const ParsedRequest& request_;
  Tokenizer tokenizer_;
  std::string id_;
  std::string model_;
  std::int64_t created_ = 0;
  bool opened_ = false;
  std::size_t text_offset_ = 0;
};

/// "data: <json>\n\n".
std::string sse(const nlohmann::json& j);

/// Compares two strings in time that depends on their lengths only.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace lpu::serve
