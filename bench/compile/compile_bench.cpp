// lpu_compile_bench: what the static scheduler costs and what it predicts.
// For published models (config-only shape presets) it measures compile wall
// time, peak resident memory and Program size, and sets the headline
// decode's static latency beside its lower bound and beside the published
// tokens/s of lpu-target.md section 6; then how the headline decode scales
// with batch slots. Prints one JSON document on stdout, progress on stderr.
// bench/README.md says how to read it; scripts/bench_compile.sh runs it.
//
// Usage: lpu_compile_bench [FILTER]   (only the cases whose label contains FILTER)

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "include/lpu/model.h"
#include "lib/compiler/compiler.h"
#include "lib/compiler/report.h"
#include "lib/program/program.h"
#include "lib/target/target.h"

namespace lpu::bench {
namespace {

// Ordered: the fields print in the order written, case label first.
using json = nlohmann::ordered_json;

constexpr std::uint64_t kGiB = 1ull << 30;
constexpr std::uint64_t kMiB = 1ull << 20;

// The goals the compile section checks (set by the project lead): the
// largest published deployment compiles fast, in little memory, to a small
// Program, and every schedule stays near its lower bound.
constexpr double kCompileSecondsGoal = 10;
constexpr std::uint64_t kPeakRssGoal = 2 * kGiB;
constexpr std::uint64_t kProgramBytesGoal = 256 * kMiB;
constexpr double kRatioGoal = 1.15;

// Every case's child runs under these caps, so that a compile that runs
// away (Mixtral-8x7B at 64 slots once reached 18 GiB resident here)
// fails alone instead of drawing the kernel's out-of-memory killer onto
// the machine's other processes.
constexpr std::uint64_t kChildAddressSpace = 8 * kGiB;
constexpr unsigned kChildSeconds = 300;

// One compile, run in a child process of its own.
struct Case {
  std::string label;
  std::string shape;
  std::string target = "tsp-v1";
  compiler::CompileOptions options;
  /// Also serialise the Program (its size; costs one more copy in memory).
  bool serialize = false;
  /// Check the memory, time and size goals (the 576-chip Llama-2-70B).
  bool resource_goals = false;
};

// A published per-user decode rate (lpu-target.md section 6).
struct Published {
  const char* shape;
  const char* model;    ///< as the table names it
  double tokens_per_s;  ///< the figure compared against (a range's upper end)
  double low, high;
  std::uint32_t context;  ///< context of the measurement; 0 when not published
  const char* source;
  const char* note;
};

constexpr Published kPublished[] = {
    {"llama-2-70b", "Llama-2-70B", 300, 240, 300, 4096,
     "240 (EE Times 2023); 300 (TechPowerUp Feb 2024, 4K context)",
     "576 chips (HN citing Groq); 568 and '>500' also quoted; 100 in Aug 2023"},
    {"mixtral-8x7b", "Mixtral-8x7B", 480, 480, 480, 0, "Groq via TechPowerUp Feb 2024",
     "chips not published; ~430 measured by ArtificialAnalysis"},
    {"llama-2-7b", "Llama-2-7B", 750, 750, 750, 2048, "TechPowerUp Feb 2024 (2K context)",
     "chips not published"},
    {"llama-3-8b", "Llama-3 (8B?)", 1300, 1300, 1300, 0, "Arsovski talk 2024; SemiWiki",
     "the source doubts the model size; chips not published"},
};

void log(const std::string& line) {
  std::fprintf(stderr, "[lpu_compile_bench] %s\n", line.c_str());
}

std::uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;  // kilobytes on Linux
}

// User and system time of every thread of this process.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto sec = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec * 1e-6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

double cycles_to_us(std::uint64_t cycles, double clock_hz) {
  return static_cast<double>(cycles) / clock_hz * 1e6;
}

double safe_ratio(std::uint64_t a, std::uint64_t b) {
  return static_cast<double>(a) / static_cast<double>(b == 0 ? 1 : b);
}

// The headline decode (largest context bucket) as report_json describes
// it, with the lower bound's two parts.
json headline_json(const compiler::Compiled& c, const target::Target& t) {
  const std::size_t h = compiler::headline_variant(c);
  const program::Variant& v = c.program.variants[h];
  const compiler::Bound& b = c.reports[h].bound;
  json j;
  j["variant"] = v.name;
  j["context"] = v.context;
  j["rows"] = v.rows;
  j["static_latency_cycles"] = v.static_latency_cycles;
  j["static_latency_us"] = cycles_to_us(v.static_latency_cycles, t.clock_hz);
  j["lower_bound_cycles"] = v.lower_bound_cycles;
  j["critical_path_cycles"] = b.critical_path;
  j["busiest_resource_cycles"] = b.busiest_resource;
  j["busiest_resource"] = b.busiest_name;
  j["partition_free_bound_cycles"] = b.partition_free;
  j["ratio"] = safe_ratio(v.static_latency_cycles, v.lower_bound_cycles);
  j["initiation_interval_cycles"] = v.initiation_interval_cycles;
  j["predicted_tokens_per_s_user"] = t.clock_hz / static_cast<double>(v.static_latency_cycles);
  j["predicted_tokens_per_s_system"] =
      t.clock_hz * v.rows /
      static_cast<double>(std::max<std::uint64_t>(1, v.initiation_interval_cycles));
  return j;
}

// Per-user rate of every decode bucket: a published figure measured at a
// shorter context than the headline's is compared at its own bucket too.
json decode_buckets_json(const compiler::Compiled& c, const target::Target& t) {
  json out = json::array();
  for (const program::Variant& v : c.program.variants) {
    if (v.kind != program::VariantKind::kDecode) continue;
    out.push_back({{"context", v.context},
                   {"static_latency_cycles", v.static_latency_cycles},
                   {"ratio", safe_ratio(v.static_latency_cycles, v.lower_bound_cycles)},
                   {"predicted_tokens_per_s_user",
                    t.clock_hz / static_cast<double>(v.static_latency_cycles)}});
  }
  return out;
}

std::uint64_t instruction_count(const program::Program& p) {
  std::uint64_t n = 0;
  for (const program::Variant& v : p.variants) {
    for (const auto& stream : v.streams) n += stream.size();
  }
  return n;
}

// Runs in the child: one compile, timed and measured, described as JSON.
json measure(const Case& k) {
  json j = {{"label", k.label},         {"shape", k.shape},
            {"target", k.target},       {"chips_asked", k.options.chips},
            {"slots", k.options.slots}, {"max_context_asked", k.options.max_context}};
  Result<target::Target> t = target::target_preset(k.target);
  Result<ModelConfig> config = shape_preset(k.shape);
  if (!t.ok() || !config.ok()) {
    j["error"] = (t.ok() ? config.status() : t.status()).to_string();
    return j;
  }
  const compiler::ModelInput model = compiler::model_input_from_config(*config);
  j["rss_at_start_bytes"] = peak_rss_bytes();
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  Result<compiler::Compiled> r = internal_error("not compiled");
  try {
    r = compiler::compile(model, *t, k.options);
  } catch (const std::bad_alloc&) {
    // Caught here so that the time and memory it took are still reported.
    r = resource_exhausted("std::bad_alloc under this benchmark's address-space cap of " +
                           std::to_string(kChildAddressSpace / kGiB) + " GiB");
  }
  j["compile_wall_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Above the wall time when the compiler's variants ran on several threads.
  j["compile_cpu_seconds"] = cpu_seconds() - cpu0;
  j["peak_rss_bytes"] = peak_rss_bytes();
  if (!r.ok()) {
    j["error"] = r.status().to_string();
    return j;
  }
  const compiler::Compiled& c = *r;
  j["compile_seconds_reported"] = c.compile_seconds;
  j["chips"] = c.program.meta.chips;
  j["chips_used"] = c.chips_used;
  j["tensor_parallel"] = c.tp;
  j["stages"] = c.stages;
  j["group"] = c.program.meta.group;
  j["kv"] = c.program.meta.kv;
  j["variants"] = c.program.variants.size();
  j["instructions"] = instruction_count(c.program);
  if (k.serialize) {
    j["program_bytes"] = program::serialize(c.program).size();
    j["peak_rss_with_serialize_bytes"] = peak_rss_bytes();
  }
  j["headline_decode"] = headline_json(c, *t);
  j["decode_buckets"] = decode_buckets_json(c, *t);
  return j;
}

bool write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

[[noreturn]] void child_main(const Case& k, int fd) {
  const rlimit cap{kChildAddressSpace, kChildAddressSpace};
  setrlimit(RLIMIT_AS, &cap);
  alarm(kChildSeconds);
  json j;
  try {
    j = measure(k);
  } catch (const std::exception& e) {
    j = {{"label", k.label}, {"error", std::string("exception: ") + e.what()}};
  }
  // _exit: the Program is freed with the process, not destructor by
  // destructor, and the parent's stdio buffers are not flushed twice.
  _exit(write_all(fd, j.dump()) ? 0 : 1);
}

std::string signal_text(int sig) {
  std::string text = "child killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  if (sig == SIGALRM) text += ": over the " + std::to_string(kChildSeconds) + " s limit";
  if (sig == SIGABRT) text += ": out of memory under the address-space cap?";
  if (sig == SIGKILL) text += ": the kernel's out-of-memory killer?";
  return text;
}

// Forks so that each case's peak memory is its own (ru_maxrss never falls
// within a process) and a crash or an out-of-memory kill costs one case.
json run_isolated(const Case& k) {
  std::fflush(nullptr);
  int fds[2];
  if (pipe(fds) != 0)
    return {{"label", k.label}, {"error", std::string("pipe: ") + std::strerror(errno)}};
  const pid_t pid = fork();
  if (pid < 0) return {{"label", k.label}, {"error", std::string("fork: ") + std::strerror(errno)}};
  if (pid == 0) {
    close(fds[0]);
    child_main(k, fds[1]);
  }
  close(fds[1]);
  const std::string text = read_all(fds[0]);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    return {{"label", k.label}, {"error", signal_text(WTERMSIG(status))}};
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return {{"label", k.label},
            {"error",
             "child exited with status " + std::to_string(WEXITSTATUS(status)) + " and no result"}};
  }
  return j;
}

std::string one_line_summary(const json& j) {
  if (j.contains("error"))
    return j["label"].get<std::string>() + ": error: " + j["error"].get<std::string>();
  const json& h = j["headline_decode"];
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: %u chips, %.2f s, %.2f GiB peak, %.2f us/token, ratio %.3f",
                j["label"].get<std::string>().c_str(), j["chips_used"].get<unsigned>(),
                j["compile_wall_seconds"].get<double>(),
                static_cast<double>(j["peak_rss_bytes"].get<std::uint64_t>()) / kGiB,
                h["static_latency_us"].get<double>(), h["ratio"].get<double>());
  return buf;
}

json goal(const char* name, double value, double limit, const char* unit) {
  return {
      {"name", name}, {"value", value}, {"limit", limit}, {"unit", unit}, {"met", value <= limit}};
}

// The published figure for the case's model, and how the prediction
// compares (at the headline bucket, and at the published context's bucket).
json published_json(const Published& p, const json& result) {
  json j = {{"model", p.model},
            {"tokens_per_s_user", p.tokens_per_s},
            {"range", {p.low, p.high}},
            {"source", p.source},
            {"note", p.note}};
  j["context"] = p.context == 0 ? json(nullptr) : json(p.context);
  if (result.contains("error")) return j;
  const double predicted = result["headline_decode"]["predicted_tokens_per_s_user"].get<double>();
  j["ratio_predicted_over_published"] = predicted / p.tokens_per_s;
  for (const json& b : result["decode_buckets"]) {
    if (p.context != 0 && b["context"].get<std::uint32_t>() == p.context) {
      const double at = b["predicted_tokens_per_s_user"].get<double>();
      j["at_published_context"] = {{"context", p.context},
                                   {"predicted_tokens_per_s_user", at},
                                   {"ratio_predicted_over_published", at / p.tokens_per_s}};
    }
  }
  return j;
}

json goals_json(const Case& k, const json& r) {
  json goals = json::array();
  if (r.contains("error")) return goals;
  if (k.resource_goals) {
    goals.push_back(goal("compile_wall_seconds", r["compile_wall_seconds"].get<double>(),
                         kCompileSecondsGoal, "s"));
    goals.push_back(goal("peak_rss_bytes",
                         static_cast<double>(r["peak_rss_bytes"].get<std::uint64_t>()),
                         static_cast<double>(kPeakRssGoal), "bytes"));
    goals.push_back(goal("program_bytes",
                         static_cast<double>(r["program_bytes"].get<std::uint64_t>()),
                         static_cast<double>(kProgramBytesGoal), "bytes"));
  }
  goals.push_back(goal("static_latency_over_lower_bound",
                       r["headline_decode"]["ratio"].get<double>(), kRatioGoal, "ratio"));
  return goals;
}

std::vector<Case> compile_cases() {
  std::vector<Case> cases;
  auto add = [&](const std::string& shape, std::uint32_t chips, bool goals) {
    Case k;
    k.label = "compile/" + shape + "/tsp-v1/" +
              (chips == 0 ? std::string("least") : std::to_string(chips));
    k.shape = shape;
    k.options.chips = chips;
    k.serialize = true;
    k.resource_goals = goals;
    cases.push_back(k);
  };
  add("llama-2-70b", 576, true);
  add("mixtral-8x7b", 0, false);
  add("llama-2-7b", 0, false);
  add("llama-3-8b", 0, false);
  return cases;
}

std::vector<Case> slot_cases() {
  std::vector<Case> cases;
  for (const char* shape : {"llama-2-7b", "mixtral-8x7b"}) {
    for (std::uint32_t slots : {1u, 8u, 64u}) {
      Case k;
      k.label = std::string("slots/") + shape + "/tsp-v1/ctx4096/s" + std::to_string(slots);
      k.shape = shape;
      k.options.max_context = 4096;
      k.options.slots = slots;
      cases.push_back(k);
    }
  }
  return cases;
}

const Published* published_for(const std::string& shape) {
  for (const Published& p : kPublished) {
    if (shape == p.shape) return &p;
  }
  return nullptr;
}

json run_section(const std::vector<Case>& cases, const std::string& filter, bool with_goals) {
  json out = json::array();
  for (const Case& k : cases) {
    if (k.label.find(filter) == std::string::npos) continue;
    log("running " + k.label);
    json r = run_isolated(k);
    log(one_line_summary(r));
    if (with_goals) {
      if (const Published* p = published_for(k.shape)) r["published"] = published_json(*p, r);
      r["goals"] = goals_json(k, r);
    } else {
      r.erase("decode_buckets");  // wanted only beside a published context
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string first_match(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

json machine_json() {
  return {{"cores", sysconf(_SC_NPROCESSORS_ONLN)},
          {"hardware_concurrency", std::thread::hardware_concurrency()},
          {"cpu_model", first_match("/proc/cpuinfo", "model name")},
          {"mem_total", first_match("/proc/meminfo", "MemTotal")},
          {"load_average_at_start", load_average()},
          {"case_address_space_cap_bytes", kChildAddressSpace},
          {"case_time_limit_s", kChildSeconds}};
}

}  // namespace
}  // namespace lpu::bench

int main(int argc, char** argv) {
  using lpu::bench::json;
  const std::string filter = argc > 1 ? argv[1] : "";
  json out;
  out["machine"] = lpu::bench::machine_json();
  out["notes"] = {
      {"ratio", "static latency / lower bound of the headline decode (the largest context bucket)"},
      {"predicted_tokens_per_s_user", "clock / static latency of one decode step"},
      {"predicted_tokens_per_s_system",
       "clock x slots / initiation interval (steps overlapped in the pipeline)"},
      {"peak_rss_bytes",
       "ru_maxrss of a child process forked for the case, read right after compile()"},
      {"program_bytes", "program::serialize(Program).size()"}};
  out["compile"] = lpu::bench::run_section(lpu::bench::compile_cases(), filter, true);
  out["slots"] = lpu::bench::run_section(lpu::bench::slot_cases(), filter, false);
  out["machine"]["load_average_at_end"] = lpu::bench::load_average();
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
