// lpu-serve: HTTP routes over one background-stepping Engine.
#include "examples/serve/server.h"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "examples/serve/metrics.h"
#include "examples/serve/openai_api.h"

namespace lpu::serve {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kDefaultContextCeiling = 2048;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void respond_error(httplib::Response& res, const ApiError& e) {
  res.status = e.http_status;
  res.set_content(error_body(e), "application/json");
}

// A fixed label for /metrics: the routes, or "other" (never a client's path).
std::string route_label(const std::string& path) {
  for (const char* known : {"/v1/completions", "/v1/chat/completions", "/v1/models"}) {
    if (path == known) return known;
  }
  return "other";
}

const char* endpoint_name(Endpoint e) {
  return e == Endpoint::kCompletions ? "/v1/completions" : "/v1/chat/completions";
}

// Times a request's tokens for the latency histograms.
struct TokenClock {
  Clock::time_point arrival;
  std::optional<Clock::time_point> last;
  void token(Metrics& m) {
    const auto now = Clock::now();
    if (last) {
      m.inter_token_latency(seconds(now - *last));
    } else {
      m.time_to_first_token(seconds(now - arrival));
    }
    last = now;
  }
};

}  // namespace

struct Server::Impl {
  ServeOptions options;
  // Declared before the Engine, so destroyed after it: the Engine's thread
  // reports every step to it until the Engine is gone.
  Metrics metrics;
  std::optional<Model> model;
  std::unique_ptr<Engine> engine;
  ServedModel served;
  double static_token_latency = 0.0;
  std::int64_t created = 0;
  httplib::Server http;
  int port = 0;
  std::atomic<std::uint64_t> next_response{1};

  std::mutex active_mu;
  std::set<RequestId> active;  // requests in flight, cancelled when the grace period ends
  std::condition_variable stopped_cv;
  std::atomic<bool> stopping{false};
  std::atomic<bool> serving{false};     // serve() was called
  std::atomic<bool> served_all{false};  // serve() has returned
  std::thread grace;

  void routes();
  void handle(Endpoint endpoint, const httplib::Request& req, httplib::Response& res);
  void track(RequestId id, bool on) {
    std::lock_guard<std::mutex> lock(active_mu);
    if (on) {
      active.insert(id);
    } else {
      active.erase(id);
      if (active.empty()) stopped_cv.notify_all();
    }
  }
  std::string response_id(Endpoint e) {
    return std::string(e == Endpoint::kCompletions ? "cmpl-" : "chatcmpl-") + std::to_string(created) + "-" +
           std::to_string(next_response++);
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop();
  if (impl_->grace.joinable()) impl_->grace.join();
}

Result<std::unique_ptr<Server>> Server::create(const ServeOptions& o) {
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  if (o.slots < 1) return invalid_argument("--slots 0 (expected >= 1)");
  if (o.port < 0 || o.port > 65535) return invalid_argument("--port " + std::to_string(o.port) + " (expected 0 to 65535)");
  LPU_ASSIGN_OR_RETURN(Model model, Model::load(o.model));
  impl->model.emplace(std::move(model));
  EngineOptions e;
  e.backend = o.backend;
  e.target = o.target;
  e.program = o.program;
  e.slots = o.slots;
  const auto train = static_cast<std::uint32_t>(std::max(0, impl->model->config().n_ctx_train));
  e.max_context = o.max_context != 0 ? o.max_context : train == 0 ? kDefaultContextCeiling : std::min(train, kDefaultContextCeiling);
  e.threads = o.threads;
  e.max_waiting = o.max_queue;
  e.background = true;
  e.progress = terminal_progress_bar("lpu serve");
  Impl* raw = impl.get();
  e.on_step = [raw](const StepReport& s) { raw->metrics.step(s.seconds, s.decode_rows); };
  LPU_ASSIGN_OR_RETURN(impl->engine, Engine::create(*impl->model, e));
  impl->served.id = !o.model_id.empty() ? o.model_id : std::filesystem::path(o.model).stem().string();
  impl->served.max_context = impl->engine->max_context();
  const Program& p = impl->engine->program();
  if (p.target_name() != "cpu-host") impl->static_token_latency = static_cast<double>(p.decode_latency_cycles()) / p.clock_hz();
  impl->created = unix_now();
  impl->routes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::Impl::routes() {
  const std::size_t workers = options.slots + options.max_queue + 8;
  http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  http.set_payload_max_length(options.max_body_bytes);
  http.set_read_timeout(options.read_timeout_seconds, 0);
  http.set_write_timeout(10, 0);
  http.set_keep_alive_timeout(5);
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    if (stopping) {
      respond_error(res, {503, "The server is shutting down", "server_error", "", "shutting_down"});
      metrics.request_done(route_label(req.path), 503);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (options.api_key.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                    constant_time_equal(std::string_view(auth).substr(prefix.size()), options.api_key);
    if (ok) return httplib::Server::HandlerResponse::Unhandled;
    respond_error(res, {401, "Missing or wrong API key: send 'Authorization: Bearer <key>'", "invalid_request_error", "",
                        "invalid_api_key"});
    metrics.request_done(route_label(req.path), 401);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Errors httplib raises itself (no route, a body too large, a bad
  // request line) get an OpenAI-style body too.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = "HTTP " + std::to_string(res.status);
    if (res.status == 404) message = "No such route (the API serves /v1/completions, /v1/chat/completions, /v1/models, /health and /metrics)";
    if (res.status == 413) message = "The request body is too large";
    if (res.status == 400) message = "The request is malformed";
    respond_error(res, {res.status, message, "invalid_request_error", "", ""});
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    respond_error(res, {500, "internal error", "server_error", "", ""});
  });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const json j = {{"status", "ok"}, {"model", served.id}, {"slots", engine->slots()}, {"running", engine->running()},
                    {"waiting", engine->waiting()}};
    res.set_content(j.dump(), "application/json");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const json model = {{"id", served.id}, {"object", "model"}, {"created", created}, {"owned_by", "lpu"},
                        {"max_context", served.max_context}};
    res.set_content(json{{"object", "list"}, {"data", json::array({model})}}.dump(), "application/json");
    metrics.request_done("/v1/models", 200);
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    Metrics::Gauges g;
    g.waiting = engine->waiting();
    g.max_waiting = engine->max_waiting();
    g.running = engine->running();
    g.slots = engine->slots();
    g.static_token_latency = static_token_latency;
    res.set_content(metrics.render(g), "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle(Endpoint::kCompletions, req, res);
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle(Endpoint::kChatCompletions, req, res);
  });
}

void Server::Impl::handle(Endpoint endpoint, const httplib::Request& req, httplib::Response& res) {
  TokenClock clock{Clock::now(), std::nullopt};
  const char* name = endpoint_name(endpoint);
  auto fail = [&](const ApiError& e) {
    respond_error(res, e);
    metrics.request_done(name, e.http_status);
  };
  auto parsed = std::make_shared<ParsedRequest>();
  if (auto e = parse_request(endpoint, req.body, served, *parsed)) return fail(*e);
  auto stream = engine->stream(parsed->request);
  if (!stream.ok()) return fail(engine_error(stream.status(), endpoint));
  const RequestId id = stream->id();
  track(id, true);
  auto builder = std::make_shared<ResponseBuilder>(*parsed, engine->tokenizer(), response_id(endpoint), served.id, unix_now());
  if (!parsed->stream) {
    for (const TokenEvent& ev : *stream) {
      if (ev.token != kNoToken) clock.token(metrics);
    }
    track(id, false);
    if (!stream->status().ok()) return fail({500, stream->status().to_string(), "server_error", "", ""});
    auto out = stream->output();
    if (!out.ok()) return fail({500, out.status().to_string(), "server_error", "", ""});
    if (out->stop == StopReason::kError) return fail({500, out->error, "server_error", "", ""});
    if (out->stop == StopReason::kCancelled) return fail({503, "The server is shutting down", "server_error", "", ""});
    metrics.tokens(out->prompt_tokens, out->tokens.size());
    res.set_content(builder->final_response(*out).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    metrics.request_done(name, 200);
    return;
  }
  // Streamed: the provider runs on this connection's thread, one event per
  // call; a failed write (the client left) ends it, and dropping the
  // stream cancels the request, freeing its slot.
  struct State {
    std::optional<TokenStream> stream;
    std::shared_ptr<ParsedRequest> parsed;
    std::shared_ptr<ResponseBuilder> builder;
    TokenClock clock;
  };
  auto state = std::make_shared<State>(State{std::move(*stream), parsed, builder, clock});
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  metrics.request_done(name, 200);
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, state](std::size_t, httplib::DataSink& sink) {
        auto ev = state->stream->next();
        std::string out;
        if (!ev.ok()) {
          out = sse(json::parse(error_body({500, ev.status().to_string(), "server_error", "", ""}))) + "data: [DONE]\n\n";
        } else if (!ev->has_value()) {
          auto result = state->stream->output();
          if (result.ok()) {
            if (result->stop == StopReason::kError) {
              out += sse(json::parse(error_body({500, result->error, "server_error", "", ""})));
            }
            metrics.tokens(result->prompt_tokens, result->tokens.size());
            if (state->parsed->include_usage) out += state->builder->usage_chunk(result->prompt_tokens, result->tokens.size());
          }
          out += "data: [DONE]\n\n";
        } else {
          if ((*ev)->token != kNoToken) state->clock.token(metrics);
          out = state->builder->stream_chunk(**ev);
          if (out.empty()) return true;
          return sink.write(out.data(), out.size());
        }
        const bool written = sink.write(out.data(), out.size());
        sink.done();
        return written;
      },
      [this, state, id](bool) {
        track(id, false);
        state->stream.reset();  // cancels the request if it still runs
      });
}

Status Server::bind() {
  Impl& s = *impl_;
  if (s.options.port == 0) {
    s.port = s.http.bind_to_any_port(s.options.host);
    if (s.port <= 0) return failed_precondition("cannot bind " + s.options.host + " to a free port");
  } else {
    if (!s.http.bind_to_port(s.options.host, s.options.port)) {
      return failed_precondition("cannot bind " + s.options.host + ":" + std::to_string(s.options.port) + " (in use, or not an address of this host)");
    }
    s.port = s.options.port;
  }
  return {};
}

int Server::port() const { return impl_->port; }

Status Server::serve() {
  Impl& s = *impl_;
  s.serving = true;
  const bool listened = s.stopping ? true : s.http.listen_after_bind();
  s.served_all = true;
  if (!listened && !s.stopping) return failed_precondition("the server stopped listening");
  return {};
}

void Server::stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  // New /v1 requests now get 503. In-flight ones may finish within the
  // grace period (streams keep their connections); then the rest are
  // cancelled, which ends their streams, and the listener stops.
  s.grace = std::thread([&s] {
    std::unique_lock<std::mutex> lock(s.active_mu);
    s.stopped_cv.wait_for(lock, std::chrono::seconds(s.options.shutdown_grace_seconds), [&] { return s.active.empty(); });
    while (!s.active.empty()) {
      const std::set<RequestId> left = s.active;
      lock.unlock();
      for (RequestId id : left) (void)s.engine->cancel(id);
      lock.lock();
      s.stopped_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return s.active.empty(); });
    }
    lock.unlock();
    // stop() before the listener runs is lost, so it is repeated until
    // serve() returns.
    while (s.serving && !s.served_all) {
      s.http.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

Status run_server(const ServeOptions& options) {
  // Signals are taken by one thread through sigwait, so that stop() runs
  // in an ordinary thread; every other thread inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  LPU_ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::create(options));
  LPU_TRY(server->bind(), "lpu serve");
  std::fprintf(stderr, "lpu serve: %s on http://%s:%d (%u slots, queue %u)\n", options.model.c_str(), options.host.c_str(),
               server->port(), options.slots, options.max_queue);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    int sig = 0;
    while (!done) {
      timespec tick{0, 200'000'000};
      siginfo_t info;
      sig = sigtimedwait(&signals, &info, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        std::fprintf(stderr, "lpu serve: %s: finishing in-flight requests\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        server->stop();
        return;
      }
    }
  });
  const Status served = server->serve();
  done = true;
  waiter.join();
  server.reset();
  std::fprintf(stderr, "lpu serve: stopped\n");
  return served;
}

}  // namespace lpu::serve
