#include "lib/core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>

namespace lpu::log {

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("lpu", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("[%H:%M:%S.%e] [%l] %v");
    l->set_level(spdlog::level::warn);
    if (const char* level = std::getenv("LPU_LOG_LEVEL")) {
      l->set_level(spdlog::level::from_str(level));
    }
    return l;
  }();
  return *instance;
}

}  // namespace lpu::log
