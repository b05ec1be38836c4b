// lpu_serve_bench: lpu-serve under load, measured from its clients. Starts
// the server in this process on a loopback port and runs
//  - low load: requests one at a time, each a prompt of --prompt-tokens
//    token ids (time to first token of a lone request);
//  - load: --requests streamed completions from --clients threads at once.
// Prints JSON: requests/s, generated tokens/s, p50/p99 time to first token
// and inter-token latency, and the low-load p50 time to first token.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "examples/serve/server.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string model;
  std::uint32_t slots = 4;
  int clients = 16;
  int requests = 200;
  int tokens = 16;
  int prompt_tokens = 32;
  int low_load_requests = 20;
  int threads = 0;
};

struct Timing {
  double ttft = 0.0;
  std::vector<double> itl;
  int tokens = 0;
  bool complete = false;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

// One streamed completion of `prompt` (token ids); times each content chunk.
Timing stream_completion(int port, const std::vector<int>& prompt, int max_tokens, std::uint64_t seed) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(300, 0);
  const json body = {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0.8}, {"seed", seed},
                     {"stream", true}};
  Timing t;
  std::string pending;
  const auto start = Clock::now();
  std::optional<Clock::time_point> last;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    pending.append(data, n);
    std::size_t end;
    while ((end = pending.find("\n\n")) != std::string::npos) {
      const std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0) continue;
      const std::string payload = event.substr(6);
      if (payload == "[DONE]") {
        t.complete = true;
        continue;
      }
      const json chunk = json::parse(payload, nullptr, false);
      if (chunk.is_discarded() || !chunk.contains("choices") || chunk["choices"].empty()) continue;
      if (chunk["choices"][0]["finish_reason"].is_string() && chunk["choices"][0]["text"] == "") continue;
      const auto now = Clock::now();
      if (last) {
        t.itl.push_back(std::chrono::duration<double>(now - *last).count());
      } else {
        t.ttft = std::chrono::duration<double>(now - start).count();
      }
      last = now;
      ++t.tokens;
    }
    return true;
  };
  auto res = cli.send(req);
  if (!res || res->status != 200) t.complete = false;
  return t;
}

std::vector<int> prompt_ids(int n, int salt) {
  std::vector<int> ids;
  std::uint64_t x = 0x9e3779b97f4a7c15ull ^ static_cast<std::uint64_t>(salt);
  for (int i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ids.push_back(static_cast<int>(100 + x % 20000));
  }
  return ids;
}

int run(const Args& a) {
  lpu::serve::ServeOptions o;
  o.model = a.model;
  o.slots = a.slots;
  o.port = 0;
  o.max_context = 512;
  o.max_queue = static_cast<std::uint32_t>(a.requests);
  o.threads = a.threads;
  auto server = lpu::serve::Server::create(o);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().to_string().c_str());
    return 1;
  }
  if (auto s = (*server)->bind(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  const int port = (*server)->port();
  std::thread serving([&] { (void)(*server)->serve(); });

  // Low load: one request at a time (after one warm-up).
  (void)stream_completion(port, prompt_ids(a.prompt_tokens, -1), 4, 0);
  std::vector<double> low_ttft;
  for (int i = 0; i < a.low_load_requests; ++i) {
    const Timing t = stream_completion(port, prompt_ids(a.prompt_tokens, i), 4, static_cast<std::uint64_t>(i));
    if (t.complete && t.tokens > 0) low_ttft.push_back(t.ttft);
  }

  // Load: every client takes the next request until none is left.
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<Timing> timings;
  const auto t0 = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < a.clients; ++c) {
    clients.emplace_back([&] {
      for (int i = next++; i < a.requests; i = next++) {
        Timing t = stream_completion(port, prompt_ids(a.prompt_tokens, 1000 + i), a.tokens, static_cast<std::uint64_t>(i));
        std::lock_guard<std::mutex> lock(mu);
        timings.push_back(std::move(t));
      }
    });
  }
  for (std::thread& t : clients) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  (*server)->stop();
  serving.join();

  std::vector<double> ttft, itl;
  int complete = 0;
  long tokens = 0;
  for (const Timing& t : timings) {
    complete += t.complete ? 1 : 0;
    tokens += t.tokens;
    if (t.tokens > 0) ttft.push_back(t.ttft);
    itl.insert(itl.end(), t.itl.begin(), t.itl.end());
  }
  const json out = {
      {"model", a.model},
      {"slots", a.slots},
      {"clients", a.clients},
      {"requests", a.requests},
      {"requests_complete", complete},
      {"max_tokens", a.tokens},
      {"prompt_tokens", a.prompt_tokens},
      {"requests_per_s", complete / wall},
      {"generated_tokens_per_s", static_cast<double>(tokens) / wall},
      {"ttft_p50_ms", 1e3 * percentile(ttft, 0.5)},
      {"ttft_p99_ms", 1e3 * percentile(ttft, 0.99)},
      {"itl_p50_ms", 1e3 * percentile(itl, 0.5)},
      {"itl_p99_ms", 1e3 * percentile(itl, 0.99)},
      {"low_load_ttft_p50_ms", 1e3 * percentile(low_ttft, 0.5)},
      {"low_load_ttft_p99_ms", 1e3 * percentile(low_ttft, 0.99)},
  };
  std::printf("%s\n", out.dump(2).c_str());
  return complete == a.requests ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"lpu-serve under load: requests/s, tokens/s, time to first token and inter-token latency (JSON)"};
  app.add_option("--model", a.model, "GGUF model")->required();
  app.add_option("--slots", a.slots, "Engine batch slots");
  app.add_option("--clients", a.clients, "Concurrent clients");
  app.add_option("--requests", a.requests, "Requests in the load phase");
  app.add_option("--tokens", a.tokens, "max_tokens per request");
  app.add_option("--prompt-tokens", a.prompt_tokens, "Prompt length in tokens");
  app.add_option("--low-load-requests", a.low_load_requests, "Requests one at a time before the load");
  app.add_option("--threads", a.threads, "CPU backend threads (0: all)");
  CLI11_PARSE(app, argc, argv);
  return run(a);
}
