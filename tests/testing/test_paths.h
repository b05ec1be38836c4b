#pragma once
// Where tests find their inputs, and how they behave when one is absent.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace lpu::testing {

/// The source tree (for tests/data).
std::filesystem::path source_dir();
/// ../shared beside the clone, or $LPU_SHARED_DIR.
std::filesystem::path shared_dir();
/// The downloaded-model cache: $LPU_MODEL_DIR, else ~/.cache/lpu/models.
std::filesystem::path model_dir();
/// A scratch directory unique to this test process.
std::filesystem::path temp_dir();
/// True when $CI is "true": inputs that are absent then fail the test.
bool running_in_ci();

/// SmolLM2-135M-Instruct files in the model cache.
std::filesystem::path smollm2_q4_1_path();
std::filesystem::path smollm2_f32_path();
/// The tiny TinyStories Llama in ../shared/models.
std::filesystem::path stories260k_path();

}  // namespace lpu::testing

/// Skips the test with a reason when `path` is missing; under CI=true, fails.
#define LPU_REQUIRE_FILE(path, what)                                                    \
  do {                                                                                  \
    if (!std::filesystem::exists(path)) {                                               \
      if (::lpu::testing::running_in_ci()) {                                            \
        FAIL() << (what) << " is missing at " << (path) << " (required under CI=true)"; \
      }                                                                                 \
      GTEST_SKIP() << (what) << " is missing at " << (path)                             \
                   << "; run ./scripts/test.sh to fetch it";                            \
    }                                                                                   \
  } while (0)
