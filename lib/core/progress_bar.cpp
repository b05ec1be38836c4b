// terminal_progress_bar: one line on stderr, redrawn in place.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "include/lpu/progress.h"

namespace lpu {
namespace {

// Work shorter than this draws nothing: a bar that flashes is noise.
constexpr std::chrono::milliseconds kQuietStart{500};
constexpr int kWidth = 30;

struct BarState {
  std::string label;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::mutex mu;  // stages may report from several worker threads
  std::string stage;
  int percent = -1;
  bool drawn = false;
};

void draw(BarState& b, const Progress& p) {
  const int percent = p.total == 0 ? 100 : static_cast<int>(100 * std::min(p.done, p.total) / p.total);
  if (b.stage != p.stage) {
    if (b.drawn && b.percent < 100) std::fputc('\n', stderr);
    b.stage = p.stage;
    b.percent = -1;
    b.drawn = false;
  }
  if (percent == b.percent) return;
  b.percent = percent;
  if (!b.drawn && std::chrono::steady_clock::now() - b.start < kQuietStart) return;
  const int filled = kWidth * percent / 100;
  std::fprintf(stderr, "\r%s: %-16s [%s%s] %3d%%", b.label.c_str(), b.stage.c_str(), std::string(filled, '#').c_str(),
               std::string(kWidth - filled, ' ').c_str(), percent);
  if (percent == 100) std::fputc('\n', stderr);
  std::fflush(stderr);
  b.drawn = true;
}

}  // namespace

ProgressCallback terminal_progress_bar(std::string label) {
  if (isatty(STDERR_FILENO) == 0) return {};
  auto state = std::make_shared<BarState>();
  state->label = std::move(label);
  return [state](const Progress& p) {
    std::lock_guard<std::mutex> lock(state->mu);
    draw(*state, p);
  };
}

}  // namespace lpu
