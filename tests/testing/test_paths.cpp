#include "tests/testing/test_paths.h"

#include <unistd.h>

#include <cstdlib>

namespace lpu::testing {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

}  // namespace

std::filesystem::path source_dir() { return LPU_SOURCE_DIR; }

std::filesystem::path shared_dir() { return env_or("LPU_SHARED_DIR", LPU_DEFAULT_SHARED_DIR); }

std::filesystem::path model_dir() {
  const std::string home = env_or("HOME", "/tmp");
  return env_or("LPU_MODEL_DIR", home + "/.cache/lpu/models");
}

std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("lpu-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

bool running_in_ci() { return env_or("CI", "") == "true"; }

std::filesystem::path smollm2_q4_1_path() {
  return model_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf";
}
std::filesystem::path smollm2_f32_path() { return model_dir() / "SmolLM2-135M-Instruct.F32.gguf"; }
std::filesystem::path stories260k_path() { return shared_dir() / "models" / "stories260K.gguf"; }

}  // namespace lpu::testing
