#include <algorithm>

#include "include/lpu/sampling.h"

namespace lpu {

Result<StopStrings> StopStrings::create(std::vector<std::string> stops) {
  for (std::size_t i = 0; i < stops.size(); ++i) {
    if (stops[i].empty()) return invalid_argument("stop string " + std::to_string(i) + " is empty");
  }
  return StopStrings(std::move(stops));
}

std::string StopStrings::push(std::string_view piece) {
  if (stopped_) return {};
  held_.append(piece);
  // The earliest stop string in the text: what precedes it is shown.
  std::size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Hold back the longest tail that begins some stop string.
  std::size_t hold = 0;
  for (const std::string& s : stops_) {
    for (std::size_t n = std::min(s.size() - 1, held_.size()); n > hold; --n) {
      if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopStrings::flush() {
  std::string out;
  if (!stopped_) out.swap(held_);
  held_.clear();
  return out;
}

}  // namespace lpu
