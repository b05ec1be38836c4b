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

Status Cursor::truncated(std::uint64_t need, const char* what) const {
  return error(StatusCode::kDataLoss, std::string("truncated file: expected ") + std::to_string(need) +
                                          " bytes of " + what + ", " + std::to_string(remaining()) +
                                          " left");
}

Status Cursor::read_string(std::string& out, const char* what) {
  const std::uint64_t at = pos_;
  std::uint64_t len = 0;
  if (Status s = read(len, what); !s.ok()) return s;
  if (len > remaining()) {
    return error_at(at, StatusCode::kDataLoss,
                    std::string(what) + ": string length " + std::to_string(len) +
                        " exceeds the " + std::to_string(remaining()) + " bytes left in the file");
  }
  out.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<std::size_t>(len));
  pos_ += len;
  return {};
}

}  // namespace lpu::gguf
