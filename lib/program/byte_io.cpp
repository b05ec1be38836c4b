#include "lib/program/byte_io.h"

#include <cstdio>

#include "lib/program/format_internal.h"

namespace lpu::program::internal {

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

namespace {

// Tag bytes as text, non-printable ones escaped: "OPS_", "\x00\x01ab".
std::string tag_text(const std::uint8_t* p) {
  std::string s = "\"";
  for (int i = 0; i < 4; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
      s += static_cast<char>(p[i]);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(p[i]));
      s += buf;
    }
  }
  return s + "\"";
}

}  // namespace

void ByteWriter::put_string(std::string_view s) {
  put(static_cast<std::uint32_t>(s.size()));
  out_.insert(out_.end(), s.begin(), s.end());
}

void ByteWriter::put_tag(const char (&tag)[5]) { out_.insert(out_.end(), tag, tag + 4); }

void ByteWriter::pad_to(std::size_t alignment) {
  out_.resize((out_.size() + alignment - 1) / alignment * alignment, 0);
}

std::string FieldPath::str() const {
  std::string s(base);
  if (index >= 0) {
    s += '[';
    s += std::to_string(index);
    s += ']';
  }
  if (!field.empty()) {
    if (!s.empty()) s += ".";
    s += field;
  }
  return s;
}

Status ByteReader::error_at(std::uint64_t at, const FieldPath& path, const std::string& what,
                            StatusCode code) const {
  return Status(code, std::string(source_) + " @" + hex(at) + ": " + path.str() + ": " + what);
}

Status ByteReader::need(std::uint64_t n, const FieldPath& path) const {
  if (remaining() >= n) return {};
  return error_at(pos_, path,
                  "truncated (expected " + std::to_string(n) + " bytes, " +
                      std::to_string(remaining()) + " left)");
}

Status ByteReader::read_string(std::string& out, const FieldPath& path) {
  const std::uint64_t at = pos_;
  std::uint32_t len = 0;
  LPU_TRY(read(len, path), "");
  if (len > kMaxStringBytes) {
    return error_at(at, path,
                    "string length " + std::to_string(len) +
                        " (expected <= " + std::to_string(kMaxStringBytes) + ")");
  }
  if (len > remaining()) {
    return error_at(at, path,
                    "string length " + std::to_string(len) +
                        " (expected <= " + std::to_string(remaining()) + ", the bytes left)");
  }
  out.assign(reinterpret_cast<const char*>(file_.data() + pos_), len);
  pos_ += len;
  return {};
}

Status ByteReader::read_count(std::uint32_t& out, std::uint64_t min_record_bytes,
                              const FieldPath& path) {
  const std::uint64_t at = pos_;
  LPU_TRY(read(out, path), "");
  // Division, not multiplication: no overflow whatever the count.
  const std::uint64_t fit = remaining() / min_record_bytes;
  if (out <= fit) return {};
  return error_at(at, path,
                  "count " + std::to_string(out) + " (expected <= " + std::to_string(fit) +
                      ": each takes >= " + std::to_string(min_record_bytes) + " of the " +
                      std::to_string(remaining()) + " bytes left)");
}

Status ByteReader::expect_tag(const char (&tag)[5], const FieldPath& path) {
  LPU_TRY(need(4, path), "");
  const std::uint8_t* p = file_.data() + pos_;
  for (int i = 0; i < 4; ++i) {
    if (p[i] != static_cast<std::uint8_t>(tag[i])) {
      return error_at(pos_, path,
                      tag_text(p) + " (expected \"" + std::string(tag, 4) +
                          "\": sections are in a " + "fixed order)");
    }
  }
  pos_ += 4;
  return {};
}

Status ByteReader::skip_padding(std::size_t alignment, const FieldPath& path) {
  const std::uint64_t pad = (alignment - pos_ % alignment) % alignment;
  LPU_TRY(need(pad, path), "");
  for (std::uint64_t i = 0; i < pad; ++i) {
    const std::uint8_t b = file_[pos_ + i];
    if (b != 0) return error_at(pos_ + i, path, hex(b) + " (expected 0: padding)");
  }
  pos_ += pad;
  return {};
}

Status ByteReader::view(std::uint64_t n, const std::uint8_t*& out, const FieldPath& path) {
  LPU_TRY(need(n, path), "");
  out = file_.data() + pos_;
  pos_ += n;
  return {};
}

}  // namespace lpu::program::internal
