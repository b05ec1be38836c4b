#pragma once
// The Program cache: compiled Programs under ~/.cache/lpu/programs (or
// $LPU_CACHE_DIR/programs), keyed by the model, the target, the options,
// the Program format version and the compiler's own build, so that a
// second run with the same inputs loads instead of compiling. The cache
// keeps to a budget ($LPU_CACHE_MAX_BYTES, default 2 GiB): each store
// deletes the least recently used Programs (a load counts as a use) until
// the directory fits.

#include <cstdint>
#include <span>
#include <string>

#include "include/lpu/status.h"
#include "lib/compiler/compiler.h"

namespace lpu::compiler {

/// The compiler build's identity: a hash of its sources (lib/compiler,
/// lib/isa, lib/program, lib/graph, lib/target) taken when configured.
const char* compiler_build_id();

/// The cache file for these inputs.
std::string cache_path(const ModelInput& m, const target::Target& t, const CompileOptions& o);

/// A cached Program for these inputs, or not_found. A file that fails to
/// load or validate, or whose hashes do not match, is treated as absent.
Result<program::Program> load_cached(const ModelInput& m, const target::Target& t,
                                     const CompileOptions& o);

/// Writes `p` to the cache (creating the directory); failures are errors
/// the caller may ignore.
Status store_cached(const ModelInput& m, const target::Target& t, const CompileOptions& o,
                    const program::Program& p);
/// The same, from the Program's file bytes (compress_program(serialize(p))).
Status store_cached_bytes(const ModelInput& m, const target::Target& t, const CompileOptions& o,
                          std::span<const std::uint8_t> file_bytes);

}  // namespace lpu::compiler
