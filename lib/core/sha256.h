#pragma once
// SHA-256 (FIPS 180-4), for content hashes that must be identical on every
// machine: synthetic model files, Programs, logits. Small and dependency-free.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "include/lpu/status.h"

namespace lpu {

/// Incremental SHA-256: update() any number of times, then digest() once.
class Sha256 {
 public:
  Sha256();

  void update(std::span<const std::uint8_t> bytes);
  void update(std::string_view text);

  /// Finishes the hash; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> digest();
  /// digest() as 64 lower-case hex characters.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

/// Hex SHA-256 of `bytes`.
std::string sha256_hex(std::span<const std::uint8_t> bytes);

/// Hex SHA-256 of the file at `path`; an error naming the path when it cannot
/// be read.
Result<std::string> sha256_file(const std::string& path);

}  // namespace lpu
