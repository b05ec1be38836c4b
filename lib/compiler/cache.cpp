#include "lib/compiler/cache.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "lib/core/sha256.h"
#include "lib/program/container.h"
#include "lib/target/target.h"

#ifndef LPU_COMPILER_BUILD
#define LPU_COMPILER_BUILD "unknown"
#endif

namespace lpu::compiler {
namespace {

std::filesystem::path cache_dir() {
  if (const char* d = std::getenv("LPU_CACHE_DIR"); d != nullptr && *d != '\0') {
    return std::filesystem::path(d) / "programs";
  }
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') {
    return std::filesystem::path(x) / "lpu" / "programs";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".cache" / "lpu" / "programs";
}

}  // namespace

const char* compiler_build_id() { return LPU_COMPILER_BUILD; }

std::string cache_path(const ModelInput& m, const target::Target& t, const CompileOptions& o) {
  std::ostringstream key;
  key << m.hash << '|' << target::target_hash(t) << '|' << o.chips << '|' << o.slots << '|'
      << o.max_context << '|' << o.group << '|' << o.kv << '|' << o.prefill_chunk << '|' << o.all_logits << '|'
      << program::kFormatMajor << '.' << program::kFormatMinor << '|' << compiler_build_id();
  Sha256 h;
  h.update(key.str());
  return (cache_dir() / (h.hex_digest() + ".lpuprog")).string();
}

Result<program::Program> load_cached(const ModelInput& m, const target::Target& t,
                                     const CompileOptions& o) {
  const std::string path = cache_path(m, t, o);
  if (!std::filesystem::exists(path)) return not_found(path + ": not cached");
  auto p = program::read_program(path);
  if (!p.ok()) return not_found(path + ": unreadable (" + p.status().message() + ")");
  std::vector<std::uint64_t> caps;
  for (const target::Pool& pool : t.pools) caps.push_back(pool.capacity_bytes);
  if (!program::validate(*p, caps, path).ok() || p->meta.model_hash != m.hash ||
      p->meta.target_hash != target::target_hash(t)) {
    return not_found(path + ": stale");
  }
  return p;
}

Status store_cached_bytes(const ModelInput& m, const target::Target& t, const CompileOptions& o,
                          std::span<const std::uint8_t> file_bytes) {
  const std::string path = cache_path(m, t, o);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return invalid_argument(path + ": cannot create the cache directory: " + ec.message());
  return program::write_program_bytes(file_bytes, path);
}

Status store_cached(const ModelInput& m, const target::Target& t, const CompileOptions& o,
                    const program::Program& p) {
  return store_cached_bytes(m, t, o, program::compress_program(program::serialize(p)));
}

}  // namespace lpu::compiler
