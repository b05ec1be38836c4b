#include "examples/serve/serve_cli.h"

namespace lpu::serve {

void add_serve_options(CLI::App& app, ServeOptions& o) {
  app.add_option("model", o.model, "GGUF model to serve")->required();
  app.add_option("--backend", o.backend, "cpu (the host) or lpu-sim (the LPU simulator)")->check(CLI::IsMember({"cpu", "lpu-sim"}));
  app.add_option("--target", o.target, "LPU target preset or JSON file (default: cpu-host for cpu, hmp-217 for lpu-sim)");
  app.add_option("--program", o.program, "Serve this saved Program instead of compiling");
  app.add_option("--slots", o.slots, "Batch slots: requests decoded together (default 4)");
  app.add_option("--ctx", o.max_context, "Context of every slot (default: the model's, at most 2048)");
  app.add_option("--threads", o.threads, "CPU backend worker threads (default: all)");
  app.add_option("--host", o.host, "Address to listen on (default 127.0.0.1: this machine only)");
  app.add_option("--port", o.port, "Port (default 8080; 0 picks a free one)");
  app.add_option("--api-key", o.api_key, "Require 'Authorization: Bearer KEY' on /v1 requests");
  app.add_option("--max-queue", o.max_queue, "Requests that may wait for a slot; more get 429 (default 64)");
  app.add_option("--max-body", o.max_body_bytes, "Largest request body in bytes; larger get 413 (default 1 MiB)");
  app.add_option("--read-timeout", o.read_timeout_seconds, "Seconds a request may take to arrive (default 5)");
  app.add_option("--shutdown-grace", o.shutdown_grace_seconds, "Seconds in-flight requests may run after SIGINT/SIGTERM (default 10)");
  app.add_option("--model-id", o.model_id, "The model's id in the API (default: the file name without .gguf)");
}

}  // namespace lpu::serve
