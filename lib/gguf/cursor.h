#pragma once
// A bounded little-endian reader over a byte span. Every read checks the
// bytes left first, so a truncated or lying file yields an error naming the
// offset, never a read past the end.

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "include/lpu/status.h"

namespace lpu::gguf {

class Cursor {
 public:
  Cursor(std::span<const std::uint8_t> bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  std::uint64_t offset() const { return pos_; }
  std::uint64_t remaining() const { return bytes_.size() - pos_; }

  /// Reads a T. `what` names the field; `owner_kind` and `owner_name`
  /// (e.g. "key", "general.name") say whose field it is in the message.
  template <typename T>
  Status read(T& out, const char* what, const char* owner_kind = nullptr,
              std::string_view owner_name = {}) {
    if (remaining() < sizeof(T)) return truncated(sizeof(T), what, owner_kind, owner_name);
    std::memcpy(&out, bytes_.data() + pos_, sizeof(T));  // little-endian host assumed (x86-64)
    pos_ += sizeof(T);
    return {};
  }

  /// A GGUF string: u64 length then bytes (no terminator).
  Status read_string(std::string& out, const char* what, const char* owner_kind = nullptr,
                     std::string_view owner_name = {});

  /// Error "FILE @0xOFF: MESSAGE" at the current offset (or `at`).
  Status error(StatusCode code, const std::string& message) const { return error_at(pos_, code, message); }
  Status error_at(std::uint64_t at, StatusCode code, const std::string& message) const;

 private:
  Status truncated(std::uint64_t need, const char* what, const char* owner_kind,
                   std::string_view owner_name) const;

  std::span<const std::uint8_t> bytes_;
  const std::string& file_;
  std::uint64_t pos_ = 0;
};

/// "0x1a0"
std::string hex_offset(std::uint64_t offset);

}  // namespace lpu::gguf
