#pragma once
// Project logging: spdlog behind a small facade so public headers stay free
// of it. Quiet by default (warnings and errors only, to standard error);
// LPU_LOG_LEVEL=trace|debug|info|warn|error|off changes the level.

#include <spdlog/spdlog.h>

namespace lpu::log {

/// The project's logger (created on first use, writes to standard error).
spdlog::logger& logger();

}  // namespace lpu::log

#define LPU_LOG_DEBUG(...) ::lpu::log::logger().debug(__VA_ARGS__)
#define LPU_LOG_INFO(...) ::lpu::log::logger().info(__VA_ARGS__)
#define LPU_LOG_WARN(...) ::lpu::log::logger().warn(__VA_ARGS__)
#define LPU_LOG_ERROR(...) ::lpu::log::logger().error(__VA_ARGS__)
