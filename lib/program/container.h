#pragma once
// The Program file's outer layer: a Program file is either the serialized
// Program itself (magic "LPUPROG\0", docs/program-format.md) or, as
// write_program writes it, that byte string compressed with zstd behind a
// small header:
//   0   8  magic "LPUPRGZ\0"
//   8   8  u64 little-endian: bytes of the serialized Program inside
//   16  …  one zstd frame holding exactly those bytes, and nothing after
// Instruction streams are regular (runs of equal opcodes, strided
// offsets), so they compress about 30x; the checksum and program_hash stay
// those of the serialized Program.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "include/lpu/status.h"

namespace lpu::program {

/// True when `bytes` start with the compressed file's magic.
bool is_compressed_program(std::span<const std::uint8_t> bytes);

/// The compressed file for a serialized Program (deterministic: zstd level
/// 3, one thread).
std::vector<std::uint8_t> compress_program(std::span<const std::uint8_t> serialized);

/// The serialized Program inside a compressed file. Checks the header, that
/// the stated size is the frame's content size and within what this host
/// could hold (before allocating), and that nothing follows the frame.
Result<std::vector<std::uint8_t>> uncompress_program(std::span<const std::uint8_t> bytes,
                                                     std::string_view source);

}  // namespace lpu::program
