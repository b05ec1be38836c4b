// lpu run --prompts FILE --slots S: every line a prompt, all submitted to
// one Engine whose slots they share; the replies in the file's order.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "examples/lpu/run_options.h"
#include "include/lpu/engine.h"
#include "include/lpu/progress.h"

namespace lpu::cli {

Status run_prompts(const RunOptions& o) {
  std::ifstream in(o.prompts_path, std::ios::binary);
  if (!in) return not_found(o.prompts_path + ": cannot open (--prompts)");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) return invalid_argument(o.prompts_path + ": no prompts (expected one per line)");
  LPU_ASSIGN_OR_RETURN(Model model, Model::load(o.model));
  LPU_ASSIGN_OR_RETURN(Tokenizer tok, model.tokenizer());
  std::vector<Request> requests;
  std::uint32_t longest = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Request r;
    LPU_ASSIGN_OR_RETURN(r.prompt, encode_prompt(o, model, tok, lines[i]));
    if (r.prompt.empty()) return invalid_argument(o.prompts_path + ": line " + std::to_string(i + 1) + " has no tokens");
    r.max_tokens = o.n_predict;
    r.sampling = o.sampling;
    r.stop = o.stops;
    r.ignore_eos = o.ignore_eos;
    longest = std::max<std::uint32_t>(longest, static_cast<std::uint32_t>(r.prompt.size()));
    requests.push_back(std::move(r));
  }
  EngineOptions e;
  e.backend = o.backend;
  e.target = o.target;
  e.program = o.program;
  e.slots = o.slots;
  e.max_context = o.context > 0 ? static_cast<std::uint32_t>(o.context)
                                : context_bucket(longest + static_cast<std::uint32_t>(o.n_predict));
  e.chips = o.chips;
  e.group = o.group;
  e.kv = o.kv;
  e.threads = o.threads;
  e.max_waiting = requests.size();
  e.record_steps = true;  // slot occupancy per step, printed below
  e.progress = terminal_progress_bar("lpu run");
  LPU_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::create(model, e));
  std::vector<RequestId> ids;
  for (Request& r : requests) {
    LPU_ASSIGN_OR_RETURN(RequestId id, engine->submit(std::move(r)));
    ids.push_back(id);
  }
  const auto t0 = std::chrono::steady_clock::now();
  LPU_TRY(engine->run(), o.prompts_path);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json out = nlohmann::json::array();
  std::size_t generated = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    LPU_ASSIGN_OR_RETURN(RequestOutput r, engine->output(ids[i]));
    generated += r.tokens.size();
    if (o.json) {
      out.push_back({{"tokens", r.tokens}, {"text", r.text}, {"stop_reason", stop_reason_name(r.stop)}});
    } else {
      std::printf("[%zu] %s\n", i + 1, r.text.c_str());
    }
  }
  if (o.json) std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::fflush(stdout);
  const std::vector<std::uint32_t> occ = engine->stats().decode_occupancy;
  double mean = 0;
  for (std::uint32_t n : occ) mean += n;
  mean = occ.empty() ? 0.0 : mean / static_cast<double>(occ.size());
  std::fprintf(stderr, "%zu prompts on %u slots: %zu tokens generated in %.2f s, %.1f tokens/s; %zu steps, %.2f of %u rows busy per decode step\n",
               ids.size(), engine->slots(), generated, s, generated / std::max(s, 1e-9), occ.size(), mean, engine->slots());
  return {};
}

}  // namespace lpu::cli
