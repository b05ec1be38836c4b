#include "tests/golden/golden_model.h"

#include <unistd.h>

#include "include/lpu/synth.h"
#include "lib/core/sha256.h"
#include "lib/gguf/rewrite.h"
#include "tests/testing/test_paths.h"

namespace lpu::testing {
namespace {

namespace fs = std::filesystem;

Status expect_sha(const fs::path& path, const std::string& want, const std::string& what) {
  LPU_ASSIGN_OR_RETURN(std::string got, sha256_file(path.string()));
  if (got != want) {
    return failed_precondition(path.string() + ": SHA-256 " + got + " differs from the golden's " +
                               what + " " + want +
                               " (regenerate the goldens or fetch the right file)");
  }
  return {};
}

Result<GoldenModelPath> locate_shared(const GoldenFile& g) {
  GoldenModelPath out;
  const fs::path path = shared_dir() / "models" / g.model.origin_name;
  if (!fs::exists(path)) {
    out.missing = path;
    return out;
  }
  LPU_TRY(expect_sha(path, g.model.sha256, "model"), "");
  out.path = path;
  out.provenance = "the file llama.cpp evaluated (same SHA-256)";
  return out;
}

// Writes the F32 rewrite under a process-unique name first: ctest runs the
// tests of one golden in parallel processes that may all find it missing.
Status rewrite_into_cache(const fs::path& source, const fs::path& dst) {
  const fs::path tmp = dst.string() + ".tmp-" + std::to_string(getpid());
  LPU_TRY(gguf::rewrite_as_f32(source.string(), tmp.string()),
          "rewriting " + source.string() + " to F32");
  std::error_code ec;
  fs::rename(tmp, dst, ec);
  if (ec)
    return internal_error("renaming " + tmp.string() + " to " + dst.string() + ": " + ec.message());
  return {};
}

Result<GoldenModelPath> locate_cached(const GoldenFile& g) {
  GoldenModelPath out;
  const fs::path path = model_dir() / g.model.origin_name;
  const fs::path source = model_dir() / g.model.source_file;
  const bool has_source = !g.model.source_file.empty() && fs::exists(source);
  if (fs::exists(path)) {
    LPU_ASSIGN_OR_RETURN(std::string got, sha256_file(path.string()));
    if (got == g.model.sha256) {
      out.path = path;
      out.provenance = "the file llama.cpp evaluated (same SHA-256)";
      return out;
    }
    if (!has_source) {
      return failed_precondition(path.string() + ": SHA-256 " + got +
                                 " differs from the golden's " + g.model.sha256 +
                                 " and its source " + source.string() + " is absent");
    }
    LPU_TRY(expect_sha(source, g.model.source_sha256, "source"), "");
    out.path = path;
    out.provenance = "a different F32 file (SHA-256 " + got + ") made from the same source";
    return out;
  }
  if (!has_source) {
    out.missing = g.model.source_file.empty() ? path : source;
    return out;
  }
  LPU_TRY(expect_sha(source, g.model.source_sha256, "source"), "");
  LPU_TRY(rewrite_into_cache(source, path), "");
  LPU_ASSIGN_OR_RETURN(std::string got, sha256_file(path.string()));
  out.path = path;
  out.provenance = got == g.model.sha256
                       ? "rewritten here by rewrite_as_f32, byte-identical to llama.cpp's"
                       : "rewritten here by rewrite_as_f32 (SHA-256 " + got + ", not llama.cpp's " +
                             g.model.sha256 + ")";
  return out;
}

Result<GoldenModelPath> locate_synthetic(const GoldenFile& g) {
  GoldenModelPath out;
  LPU_ASSIGN_OR_RETURN(SynthOptions options, synth_preset(g.model.origin_name));
  const fs::path path = temp_dir() / (g.model.origin_name + ".gguf");
  LPU_TRY(write_synthetic_model(options, path.string()),
          "synthesising preset " + g.model.origin_name);
  LPU_TRY(expect_sha(path, g.model.sha256, "synthetic model"), "");
  out.path = path;
  out.provenance = "regenerated here, byte-identical to the file llama.cpp evaluated";
  return out;
}

}  // namespace

Result<GoldenModelPath> locate_golden_model(const GoldenFile& golden) {
  if (golden.model.origin_kind == "shared") return locate_shared(golden);
  if (golden.model.origin_kind == "cache") return locate_cached(golden);
  return locate_synthetic(golden);
}

}  // namespace lpu::testing
