#include "examples/serve/metrics.h"

#include <cstdio>
#include <sstream>

namespace lpu::serve {
namespace {

// Latency buckets from 1 ms to 30 s.
std::vector<double> latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0};
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::ostringstream& os, const char* name, const char* type, const char* help) {
  os << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::string Histogram::render(const std::string& name) const {
  std::ostringstream os;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    os << name << "_bucket{le=\"" << number(bounds_[i]) << "\"} " << cumulative << "\n";
  }
  cumulative += counts_.back();
  os << name << "_bucket{le=\"+Inf\"} " << cumulative << "\n";
  os << name << "_sum " << number(sum_) << "\n" << name << "_count " << count_ << "\n";
  return os.str();
}

Metrics::Metrics() : ttft_(latency_bounds()), itl_(latency_bounds()), step_(latency_bounds()) {}

void Metrics::request_done(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, status}];
}

void Metrics::tokens(std::size_t prompt, std::size_t generated) {
  std::lock_guard<std::mutex> lock(mu_);
  prompt_tokens_ += prompt;
  generated_tokens_ += generated;
}

void Metrics::time_to_first_token(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ttft_.observe(seconds);
}

void Metrics::inter_token_latency(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  itl_.observe(seconds);
}

void Metrics::step(double seconds, std::uint32_t decode_rows) {
  std::lock_guard<std::mutex> lock(mu_);
  step_.observe(seconds);
  ++steps_;
  decode_rows_ += decode_rows;
}

std::string Metrics::render(const Gauges& g) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream os;
  header(os, "lpu_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
  for (const auto& [key, n] : requests_) {
    os << "lpu_requests_total{endpoint=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  }
  header(os, "lpu_prompt_tokens_total", "counter", "Prompt tokens of finished requests.");
  os << "lpu_prompt_tokens_total " << prompt_tokens_ << "\n";
  header(os, "lpu_generated_tokens_total", "counter", "Tokens generated for finished requests.");
  os << "lpu_generated_tokens_total " << generated_tokens_ << "\n";
  header(os, "lpu_queue_depth", "gauge", "Requests waiting for a batch slot.");
  os << "lpu_queue_depth " << g.waiting << "\n";
  header(os, "lpu_queue_capacity", "gauge", "Requests that may wait before new ones get 429.");
  os << "lpu_queue_capacity " << g.max_waiting << "\n";
  header(os, "lpu_slots_busy", "gauge", "Batch slots holding a request.");
  os << "lpu_slots_busy " << g.running << "\n";
  header(os, "lpu_slots", "gauge", "Batch slots of the engine.");
  os << "lpu_slots " << g.slots << "\n";
  header(os, "lpu_steps_total", "counter", "Engine steps run.");
  os << "lpu_steps_total " << steps_ << "\n";
  header(os, "lpu_decode_rows_total", "counter", "Decode rows that carried a request's token (slot occupancy summed over steps).");
  os << "lpu_decode_rows_total " << decode_rows_ << "\n";
  header(os, "lpu_time_to_first_token_seconds", "histogram", "From a request's arrival to its first token.");
  os << ttft_.render("lpu_time_to_first_token_seconds");
  header(os, "lpu_inter_token_latency_seconds", "histogram", "Between a request's consecutive tokens.");
  os << itl_.render("lpu_inter_token_latency_seconds");
  header(os, "lpu_step_seconds", "histogram", "Wall time of one engine step.");
  os << step_.render("lpu_step_seconds");
  if (g.static_token_latency > 0.0) {
    header(os, "lpu_static_token_latency_seconds", "gauge", "The compiled Program's static latency of one decode step on the target.");
    os << "lpu_static_token_latency_seconds " << number(g.static_token_latency) << "\n";
  }
  return os.str();
}

}  // namespace lpu::serve
