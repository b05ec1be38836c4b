#include "lib/compiler/cache.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

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

// The cache's budget: $LPU_CACHE_MAX_BYTES, else 2 GiB.
std::uint64_t cache_budget() {
  if (const char* b = std::getenv("LPU_CACHE_MAX_BYTES"); b != nullptr && *b != '\0') {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(b, &end, 10);
    if (end != nullptr && *end == '\0') return v;
  }
  return std::uint64_t{2} << 30;
}

// Deletes the least recently used Programs (by modification time, which a
// load refreshes) until the directory fits the budget; `keep` stays. Files
// another process is reading or writing may vanish or fail to delete: a
// cache miss only costs a compile.
void evict(const std::filesystem::path& dir, const std::filesystem::path& keep) {
  namespace fs = std::filesystem;
  struct Entry {
    fs::file_time_type time;
    std::uint64_t bytes;
    fs::path path;
  };
  std::vector<Entry> entries;
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".lpuprog") continue;
    std::error_code e1, e2;
    const std::uint64_t bytes = it->file_size(e1);
    const fs::file_time_type time = it->last_write_time(e2);
    if (e1 || e2) continue;
    total += bytes;
    entries.push_back({time, bytes, it->path()});
  }
  const std::uint64_t budget = cache_budget();
  if (total <= budget) return;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time < b.time : a.path < b.path;
  });
  for (const Entry& e : entries) {
    if (total <= budget) break;
    if (e.path == keep) continue;
    std::error_code removed;
    if (fs::remove(e.path, removed)) total -= e.bytes;
  }
}

}  // namespace

const char* compiler_build_id() { return LPU_COMPILER_BUILD; }

std::string cache_path(const ModelInput& m, const target::Target& t, const CompileOptions& o) {
  std::ostringstream key;
  key << m.hash << '|' << target::target_hash(t) << '|' << o.chips << '|' << o.slots << '|'
      << o.max_context << '|' << o.group << '|' << o.kv << '|' << o.prefill_chunk << '|' << o.all_logits << '|' << transform_key(m) << '|'
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
  // Recently used entries are the last to be evicted.
  std::error_code ec;
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now(), ec);
  return p;
}

Status store_cached_bytes(const ModelInput& m, const target::Target& t, const CompileOptions& o,
                          std::span<const std::uint8_t> file_bytes) {
  const std::string path = cache_path(m, t, o);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return invalid_argument(path + ": cannot create the cache directory: " + ec.message());
  LPU_TRY(program::write_program_bytes(file_bytes, path), "");
  evict(std::filesystem::path(path).parent_path(), path);
  return {};
}

Status store_cached(const ModelInput& m, const target::Target& t, const CompileOptions& o,
                    const program::Program& p) {
  return store_cached_bytes(m, t, o, program::compress_program(program::serialize(p)));
}

}  // namespace lpu::compiler
