#pragma once
// lpu-serve's counters and histograms, rendered in the Prometheus text
// exposition format for GET /metrics. Thread-safe.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace lpu::serve {

/// A cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  /// "<name>_bucket{le=...}", "_sum" and "_count" lines.
  std::string render(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bound, then +Inf
  double sum_ = 0.0;
  std::uint64_t count_ = 0;
};

/// What the server reports: requests by endpoint and status, tokens,
/// latencies; the Engine's gauges are read at render time.
class Metrics {
 public:
  Metrics();
  void request_done(const std::string& endpoint, int status);
  void tokens(std::size_t prompt, std::size_t generated);
  void time_to_first_token(double seconds);
  void inter_token_latency(double seconds);
  void step(double seconds, std::uint32_t decode_rows);

  struct Gauges {
    std::size_t waiting = 0;
    std::size_t max_waiting = 0;
    std::size_t running = 0;
    std::uint32_t slots = 0;
    /// The Program's static latency of a decode step, seconds (LPU targets;
    /// 0 on cpu-host).
    double static_token_latency = 0.0;
  };
  std::string render(const Gauges& g) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::uint64_t prompt_tokens_ = 0;
  std::uint64_t generated_tokens_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t decode_rows_ = 0;
  Histogram ttft_;
  Histogram itl_;
  Histogram step_;
};

}  // namespace lpu::serve
