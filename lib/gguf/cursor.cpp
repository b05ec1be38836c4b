#include "lib/gguf/cursor.h"

#include <cstdio>

namespace lpu::gguf {

std::string hex_offset(std::uint64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(offset));
  return buf;
}

Status Cursor::error_at(std::uint64_t at, StatusCode code, const std::string& message) const {
  return Status(code, file_ + " @" + hex_offset(at) + ": " + message);
}

namespace {

// "string value of key 'general.name'", or just "magic".
std::string describe(const char* what, const char* owner_kind, std::string_view owner_name) {
  std::string s = what;
  if (owner_kind != nullptr) {
    s += std::string(" of ") + owner_kind + " '" + std::string(owner_name) + "'";
  }
  return s;
}

}  // namespace

Status Cursor::truncated(std::uint64_t need, const char* what, const char* owner_kind,
                         std::string_view owner_name) const {
  return error(StatusCode::kDataLoss, "truncated file: expected " + std::to_string(need) +
                                          " bytes of " + describe(what, owner_kind, owner_name) +
                                          ", " + std::to_string(remaining()) + " left");
}

Status Cursor::read_string(std::string& out, const char* what, const char* owner_kind,
                           std::string_view owner_name) {
  const std::uint64_t at = pos_;
  std::uint64_t len = 0;
  if (Status s = read(len, what, owner_kind, owner_name); !s.ok()) return s;
  if (len > remaining()) {
    return error_at(at, StatusCode::kDataLoss,
                    describe(what, owner_kind, owner_name) + ": string length " +
                        std::to_string(len) + " exceeds the " + std::to_string(remaining()) +
                        " bytes left in the file");
  }
  out.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<std::size_t>(len));
  pos_ += len;
  return {};
}

}  // namespace lpu::gguf
