#pragma once
// The host's physical memory, which sessions check their allocations
// against before making them, so an oversized request fails with a clear
// error instead of paging or being killed.

#include <cstdint>

namespace lpu {

/// Bytes of physical memory; the largest uint64 when the host does not say.
std::uint64_t physical_memory_bytes();

}  // namespace lpu
