#pragma once
// lpu-serve: an OpenAI-compatible HTTP server on the public runtime API.
// One Engine with a background stepping thread serves every request; each
// HTTP handler thread streams its request's events from it.

#include <cstdint>
#include <memory>
#include <string>

#include <lpu/lpu.h>

namespace lpu::serve {

struct ServeOptions {
  std::string model;
  std::string backend = "cpu";
  std::string target;
  std::string program;
  std::uint32_t slots = 4;
  /// Context of every slot; 0: the model's training context, at most 4096.
  std::uint32_t max_context = 0;
  int threads = 0;
  std::string host = "127.0.0.1";
  /// 0: any free port (Server::port() says which).
  int port = 8080;
  /// When set, every /v1 request needs "Authorization: Bearer <key>".
  std::string api_key;
  /// Requests that may wait for a slot; more get 429.
  std::uint32_t max_queue = 64;
  /// Bodies above this get 413.
  std::size_t max_body_bytes = 1 << 20;
  /// A request whose headers or body do not arrive within this is dropped.
  int read_timeout_seconds = 5;
  /// After a stop signal: how long in-flight requests may finish before
  /// they are cancelled.
  int shutdown_grace_seconds = 10;
  /// The id in "model" (default: the model file's name without .gguf).
  std::string model_id;
};

class Server {
 public:
  /// Loads the model and compiles (or loads) its Program: errors name the
  /// file, target or option at fault.
  static Result<std::unique_ptr<Server>> create(const ServeOptions& options);
  ~Server();

  /// Binds host:port. Errors: the address cannot be bound.
  Status bind();
  /// The port bound (after bind()).
  int port() const;
  /// Serves until stop(); returns once every in-flight request has ended.
  Status serve();
  /// Stops accepting; in-flight requests may finish until the grace period
  /// ends, then are cancelled. Safe from any thread (not from a signal
  /// handler: see run_server).
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Creates, binds and serves until SIGINT or SIGTERM; prints the address
/// on stderr once listening.
Status run_server(const ServeOptions& options);

}  // namespace lpu::serve
