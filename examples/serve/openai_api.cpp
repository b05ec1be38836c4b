// Request parsing and response JSON of lpu-serve.
#include "examples/serve/openai_api.h"

#include <cmath>
#include <limits>

namespace lpu::serve {
namespace {

using json = nlohmann::json;

// Absurd values are refused rather than clamped, so a client learns of them.
constexpr std::int64_t kMaxTokensCeiling = 1 << 20;
constexpr std::size_t kMaxStops = 4;
constexpr std::size_t kMaxStopBytes = 256;
constexpr int kMaxCompletionLogprobs = 5;
constexpr int kMaxChatTopLogprobs = 20;

ApiError bad(std::string param, std::string message) {
  return ApiError{400, std::move(message), "invalid_request_error", std::move(param), {}};
}

std::string type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// Readers of one optional field: a missing or null field leaves `out`.
std::optional<ApiError> read_bool(const json& body, const char* name, bool& out) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  if (!body[name].is_boolean()) return bad(name, std::string("'") + name + "' must be a boolean, not " + type_name(body[name]));
  out = body[name].get<bool>();
  return std::nullopt;
}

std::optional<ApiError> read_number(const json& body, const char* name, double lo, double hi, double& out) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  const json& v = body[name];
  if (!v.is_number()) return bad(name, std::string("'") + name + "' must be a number, not " + type_name(v));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    return bad(name, std::string("'") + name + "' is " + v.dump() + " (expected " + json(lo).dump() + " to " +
                         json(hi).dump() + ")");
  }
  out = x;
  return std::nullopt;
}

std::optional<ApiError> read_int(const json& body, const char* name, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  const json& v = body[name];
  if (!(v.is_number_integer() || v.is_number_unsigned())) {
    return bad(name, std::string("'") + name + "' must be an integer, not " + type_name(v));
  }
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
    return bad(name, std::string("'") + name + "' is " + v.dump() + " (expected " + std::to_string(lo) + " to " + std::to_string(hi) + ")");
  }
  const std::int64_t x = v.get<std::int64_t>();
  if (x < lo || x > hi) {
    return bad(name, std::string("'") + name + "' is " + v.dump() + " (expected " + std::to_string(lo) + " to " + std::to_string(hi) + ")");
  }
  out = x;
  return std::nullopt;
}

std::optional<ApiError> read_prompt(const json& body, lpu::Request& r) {
  if (!body.contains("prompt")) return bad("prompt", "'prompt' is required");
  const json& p = body["prompt"];
  if (p.is_string()) {
    r.text = p.get<std::string>();
    if (r.text.empty()) return bad("prompt", "'prompt' is empty");
    return std::nullopt;
  }
  if (p.is_array() && !p.empty() && p.size() == 1 && p[0].is_string()) {
    r.text = p[0].get<std::string>();
    if (r.text.empty()) return bad("prompt", "'prompt' is empty");
    return std::nullopt;
  }
  if (p.is_array() && !p.empty() && std::all_of(p.begin(), p.end(), [](const json& t) { return t.is_number_integer(); })) {
    for (const json& t : p) {
      const std::int64_t id = t.get<std::int64_t>();
      if (id < 0 || id > std::numeric_limits<TokenId>::max()) return bad("prompt", "'prompt' has token id " + t.dump() + " out of range");
      r.prompt.push_back(static_cast<TokenId>(id));
    }
    return std::nullopt;
  }
  if (p.is_array() && p.size() > 1 && p[0].is_string()) return bad("prompt", "'prompt' holds several prompts; send one per request (n = 1)");
  return bad("prompt", "'prompt' must be a non-empty string or an array of token ids, not " + type_name(p));
}

std::optional<ApiError> read_messages(const json& body, lpu::Request& r) {
  if (!body.contains("messages")) return bad("messages", "'messages' is required");
  const json& m = body["messages"];
  if (!m.is_array() || m.empty()) return bad("messages", "'messages' must be a non-empty array");
  for (std::size_t i = 0; i < m.size(); ++i) {
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m[i].is_object()) return bad(at, "'" + at + "' must be an object");
    if (!m[i].contains("role") || !m[i]["role"].is_string()) return bad(at + ".role", "'" + at + ".role' must be a string");
    const std::string role = m[i]["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "developer") {
      return bad(at + ".role", "'" + at + ".role' is '" + role + "' (expected system, developer, user or assistant)");
    }
    std::string content;
    const json& c = m[i].contains("content") ? m[i]["content"] : json();
    if (c.is_string()) {
      content = c.get<std::string>();
    } else if (c.is_array()) {
      // Content parts: text parts only.
      for (std::size_t k = 0; k < c.size(); ++k) {
        const std::string part = at + ".content[" + std::to_string(k) + "]";
        if (!c[k].is_object() || !c[k].contains("type") || c[k]["type"] != "text" || !c[k].contains("text") ||
            !c[k]["text"].is_string()) {
          return bad(part, "'" + part + "' must be a text part {\"type\": \"text\", \"text\": ...}");
        }
        content += c[k]["text"].get<std::string>();
      }
    } else {
      return bad(at + ".content", "'" + at + ".content' must be a string or an array of text parts, not " + type_name(c));
    }
    r.messages.push_back({role == "developer" ? "system" : role, std::move(content)});
  }
  return std::nullopt;
}

std::optional<ApiError> read_stop(const json& body, lpu::Request& r) {
  if (!body.contains("stop") || body["stop"].is_null()) return std::nullopt;
  const json& s = body["stop"];
  std::vector<std::string> stops;
  if (s.is_string()) {
    stops.push_back(s.get<std::string>());
  } else if (s.is_array()) {
    for (const json& x : s) {
      if (!x.is_string()) return bad("stop", "'stop' must be a string or an array of strings");
      stops.push_back(x.get<std::string>());
    }
  } else {
    return bad("stop", "'stop' must be a string or an array of strings, not " + type_name(s));
  }
  if (stops.size() > kMaxStops) return bad("stop", "'stop' has " + std::to_string(stops.size()) + " strings (at most 4)");
  for (const std::string& x : stops) {
    if (x.empty()) return bad("stop", "'stop' holds an empty string");
    if (x.size() > kMaxStopBytes) return bad("stop", "'stop' holds a string of " + std::to_string(x.size()) + " bytes (at most 256)");
  }
  r.stop = std::move(stops);
  return std::nullopt;
}

}  // namespace

std::string error_body(const ApiError& e) {
  json err = {{"message", e.message}, {"type", e.type}, {"param", e.param.empty() ? json() : json(e.param)},
              {"code", e.code.empty() ? json() : json(e.code)}};
  return json{{"error", err}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<ApiError> parse_request(Endpoint endpoint, std::string_view text, const ServedModel& model,
                                      ParsedRequest& out) {
  json body = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return bad("", "the body is not valid JSON");
  if (!body.is_object()) return bad("", "the body must be a JSON object, not " + type_name(body));
  out = ParsedRequest{};
  out.endpoint = endpoint;
  lpu::Request& r = out.request;
  if (body.contains("model")) {
    if (!body["model"].is_string()) return bad("model", "'model' must be a string, not " + type_name(body["model"]));
    if (body["model"].get<std::string>() != model.id) {
      return ApiError{404, "The model '" + body["model"].get<std::string>() + "' does not exist (this server serves '" + model.id + "')",
                      "invalid_request_error", "model", "model_not_found"};
    }
  }
  if (auto e = endpoint == Endpoint::kCompletions ? read_prompt(body, r) : read_messages(body, r)) return e;
  std::int64_t n = 1;
  if (auto e = read_int(body, "n", 1, 1, n)) {
    e->message += "; this server returns one choice per request";
    return e;
  }
  std::int64_t max_tokens = 16;
  if (endpoint == Endpoint::kChatCompletions) max_tokens = model.max_context;
  if (auto e = read_int(body, "max_tokens", 1, kMaxTokensCeiling, max_tokens)) return e;
  if (auto e = read_int(body, "max_completion_tokens", 1, kMaxTokensCeiling, max_tokens)) return e;
  r.max_tokens = static_cast<int>(std::min<std::int64_t>(max_tokens, model.max_context));
  double temperature = 1.0, top_p = 1.0, min_p = 0.0, presence = 0.0, frequency = 0.0, repetition = 1.0;
  if (auto e = read_number(body, "temperature", 0.0, 2.0, temperature)) return e;
  if (auto e = read_number(body, "top_p", 0.0, 1.0, top_p)) return e;
  if (top_p <= 0.0) return bad("top_p", "'top_p' is 0 (expected above 0, at most 1)");
  if (auto e = read_number(body, "min_p", 0.0, 1.0, min_p)) return e;
  if (auto e = read_number(body, "presence_penalty", -2.0, 2.0, presence)) return e;
  if (auto e = read_number(body, "frequency_penalty", -2.0, 2.0, frequency)) return e;
  if (auto e = read_number(body, "repetition_penalty", 0.01, 10.0, repetition)) return e;
  std::int64_t top_k = 0, seed = 0;
  if (auto e = read_int(body, "top_k", 0, 1 << 20, top_k)) return e;
  if (auto e = read_int(body, "seed", std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(), seed)) return e;
  SamplingOptions& s = r.sampling;
  s.temperature = static_cast<float>(temperature);
  s.top_p = static_cast<float>(top_p);
  s.min_p = static_cast<float>(min_p);
  s.presence_penalty = static_cast<float>(presence);
  s.frequency_penalty = static_cast<float>(frequency);
  s.repeat_penalty = static_cast<float>(repetition);
  s.top_k = static_cast<int>(top_k);
  s.seed = static_cast<std::uint64_t>(seed);
  if (auto e = read_stop(body, r)) return e;
  // An extension (llama.cpp's server has it too): generate past
  // end-of-generation tokens, for benchmarks of fixed lengths.
  if (auto e = read_bool(body, "ignore_eos", r.ignore_eos)) return e;
  if (endpoint == Endpoint::kCompletions) {
    std::int64_t lp = -1;
    if (auto e = read_int(body, "logprobs", 0, kMaxCompletionLogprobs, lp)) return e;
    out.logprobs = lp >= 0;
    out.top_logprobs = static_cast<int>(std::max<std::int64_t>(lp, 0));
    bool echo = false;
    if (auto e = read_bool(body, "echo", echo)) return e;
    if (echo) return bad("echo", "'echo' is not supported (expected false)");
    if (body.contains("suffix") && !body["suffix"].is_null()) return bad("suffix", "'suffix' is not supported");
    if (body.contains("best_of") && !(body["best_of"].is_number_integer() && body["best_of"].get<std::int64_t>() == 1)) {
      if (!body["best_of"].is_null()) return bad("best_of", "'best_of' must be 1");
    }
  } else {
    if (auto e = read_bool(body, "logprobs", out.logprobs)) return e;
    std::int64_t top = 0;
    if (auto e = read_int(body, "top_logprobs", 0, kMaxChatTopLogprobs, top)) return e;
    if (top > 0 && !out.logprobs) return bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    out.top_logprobs = static_cast<int>(top);
  }
  s.logprobs = out.logprobs;
  s.top_logprobs = out.top_logprobs;
  if (auto e = read_bool(body, "stream", out.stream)) return e;
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    const json& so = body["stream_options"];
    if (!so.is_object()) return bad("stream_options", "'stream_options' must be an object");
    if (!out.stream) return bad("stream_options", "'stream_options' is only allowed with 'stream': true");
    if (auto e = read_bool(so, "include_usage", out.include_usage)) {
      e->param = "stream_options.include_usage";
      return e;
    }
  }
  return std::nullopt;
}

ApiError engine_error(const Status& s, Endpoint endpoint) {
  const std::string param = endpoint == Endpoint::kCompletions ? "prompt" : "messages";
  switch (s.code()) {
    case StatusCode::kResourceExhausted:
      return {429, "The server is busy: " + s.message() + "; retry later", "rate_limit_exceeded", "", "queue_full"};
    case StatusCode::kOutOfRange:
      if (s.message().find("does not fit the context") != std::string::npos) {
        return {400, s.message(), "invalid_request_error", param, "context_length_exceeded"};
      }
      return {400, s.message(), "invalid_request_error", param, {}};
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return {400, s.message(), "invalid_request_error", s.message().find("sampling:") != std::string::npos ? "" : param, {}};
    default:
      return {500, s.message(), "server_error", "", {}};
  }
}

const char* finish_reason(StopReason r) {
  switch (r) {
    case StopReason::kEndOfGeneration:
    case StopReason::kStopString: return "stop";
    case StopReason::kLength:
    case StopReason::kContext: return "length";
    default: return nullptr;
  }
}

std::string sse(const json& j) { return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n"; }

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

ResponseBuilder::ResponseBuilder(const ParsedRequest& request, const Tokenizer& tokenizer, std::string id,
                                 std::string model, std::int64_t created)
    : request_(request), tokenizer_(tokenizer), id_(std::move(id)), model_(std::move(model)), created_(created) {}

json ResponseBuilder::envelope(const char* object) const {
  return {{"id", id_}, {"object", object}, {"created", created_}, {"model", model_}};
}

std::string ResponseBuilder::piece(TokenId token) const { return tokenizer_.token_to_piece(token); }

json ResponseBuilder::token_logprob(TokenId token, float logprob, const std::vector<TokenLogprob>& top) const {
  auto bytes = [](const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(static_cast<int>(c));
    return b;
  };
  const std::string text = piece(token);
  json entry = {{"token", text}, {"logprob", logprob}, {"bytes", bytes(text)}};
  json alts = json::array();
  for (const TokenLogprob& t : top) {
    const std::string alt = piece(t.token);
    alts.push_back({{"token", alt}, {"logprob", t.logprob}, {"bytes", bytes(alt)}});
  }
  entry["top_logprobs"] = alts;
  return entry;
}

json ResponseBuilder::final_response(const RequestOutput& out) const {
  const bool chat = request_.endpoint == Endpoint::kChatCompletions;
  json r = envelope(chat ? "chat.completion" : "text_completion");
  json choice = {{"index", 0}};
  const char* reason = finish_reason(out.stop);
  choice["finish_reason"] = reason != nullptr ? json(reason) : json();
  json logprobs;
  if (request_.logprobs) {
    if (chat) {
      json content = json::array();
      for (std::size_t i = 0; i < out.tokens.size(); ++i) {
        content.push_back(token_logprob(out.tokens[i], out.logprobs[i], out.top_logprobs[i]));
      }
      logprobs = {{"content", content}};
    } else {
      json tokens = json::array(), token_logprobs = json::array(), top = json::array(), offsets = json::array();
      std::size_t offset = 0;
      for (std::size_t i = 0; i < out.tokens.size(); ++i) {
        const std::string text = piece(out.tokens[i]);
        tokens.push_back(text);
        token_logprobs.push_back(out.logprobs[i]);
        json alts = json::object();
        for (const TokenLogprob& t : out.top_logprobs[i]) alts[piece(t.token)] = t.logprob;
        top.push_back(alts);
        offsets.push_back(offset);
        offset += text.size();
      }
      logprobs = {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top}, {"text_offset", offsets}};
    }
  }
  choice["logprobs"] = logprobs;
  if (chat) {
    choice["message"] = {{"role", "assistant"}, {"content", out.text}};
  } else {
    choice["text"] = out.text;
  }
  r["choices"] = json::array({choice});
  r["usage"] = {{"prompt_tokens", out.prompt_tokens},
                {"completion_tokens", out.tokens.size()},
                {"total_tokens", out.prompt_tokens + out.tokens.size()}};
  return r;
}

json ResponseBuilder::logprobs_of_event(const TokenEvent& event) {
  if (!request_.logprobs || event.token == kNoToken) return json();
  if (request_.endpoint == Endpoint::kChatCompletions) {
    return {{"content", json::array({token_logprob(event.token, event.logprob, event.top_logprobs)})}};
  }
  const std::string text = piece(event.token);
  json alts = json::object();
  for (const TokenLogprob& t : event.top_logprobs) alts[piece(t.token)] = t.logprob;
  json lp = {{"tokens", {text}}, {"token_logprobs", {event.logprob}}, {"top_logprobs", {alts}},
             {"text_offset", {text_offset_}}};
  text_offset_ += text.size();
  return lp;
}

std::string ResponseBuilder::stream_chunk(const TokenEvent& event) {
  const bool chat = request_.endpoint == Endpoint::kChatCompletions;
  std::string out;
  if (chat && !opened_) {
    json open = envelope("chat.completion.chunk");
    open["choices"] = json::array({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                                    {"logprobs", json()}, {"finish_reason", json()}}});
    out += sse(open);
    opened_ = true;
  }
  const char* reason = finish_reason(event.stop);
  // A token-less event with nothing to say and no finish reason is skipped.
  if (event.text.empty() && event.token == kNoToken && reason == nullptr) return out;
  json chunk = envelope(chat ? "chat.completion.chunk" : "text_completion");
  json choice = {{"index", 0}, {"logprobs", logprobs_of_event(event)},
                 {"finish_reason", reason != nullptr ? json(reason) : json()}};
  if (chat) {
    choice["delta"] = event.text.empty() ? json::object() : json{{"content", event.text}};
  } else {
    choice["text"] = event.text;
  }
  chunk["choices"] = json::array({choice});
  out += sse(chunk);
  return out;
}

std::string ResponseBuilder::usage_chunk(std::size_t prompt_tokens, std::size_t completion_tokens) const {
  json chunk = envelope(request_.endpoint == Endpoint::kChatCompletions ? "chat.completion.chunk" : "text_completion");
  chunk["choices"] = json::array();
  chunk["usage"] = {{"prompt_tokens", prompt_tokens},
                    {"completion_tokens", completion_tokens},
                    {"total_tokens", prompt_tokens + completion_tokens}};
  return sse(chunk);
}

}  // namespace lpu::serve
