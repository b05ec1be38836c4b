#pragma once
// Little-endian byte writing and bounded reading for the Program format
// (docs/program-format.md). The reader checks the bytes left before every
// read, so a truncated or lying file gives an error naming the file offset
// and the field ("p.lpuprog @0x1c8: variants[0].streams[2][17].op: ..."),
// never a read past the end. Bytes are assembled explicitly, so the format
// is little-endian whatever the host.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "include/lpu/status.h"

namespace lpu::program::internal {

/// Reads an unsigned little-endian T from `p`.
template <typename T>
T load_le(const std::uint8_t* p) {
  static_assert(std::is_unsigned_v<T>);
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(T{p[i]} << (8 * i));
  return v;
}

/// Writes an unsigned little-endian T at `p`.
template <typename T>
void store_le(std::uint8_t* p, T v) {
  static_assert(std::is_unsigned_v<T>);
  for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

/// Appends little-endian fields to a byte vector.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}

  template <typename T>
  void put(T v) {
    const std::size_t at = out_.size();
    out_.resize(at + sizeof(T));
    store_le(out_.data() + at, v);
  }
  /// u32 length, then the bytes.
  void put_string(std::string_view s);
  /// Four tag characters, as they are.
  void put_tag(const char (&tag)[5]);
  /// Zero bytes up to the next multiple of `alignment` of the offset.
  void pad_to(std::size_t alignment);
  std::size_t size() const { return out_.size(); }

 private:
  std::vector<std::uint8_t>& out_;
};

/// A field's name for errors: `base`, then `[index]` when index >= 0, then
/// `.field` when field is non-empty: "variants[0].streams[2]" + 17 + "op".
/// Built into a string only when an error is reported.
struct FieldPath {
  std::string_view base;
  std::int64_t index = -1;
  std::string_view field;

  std::string str() const;
};

/// A bounded reader over the whole file; offsets are file offsets.
class ByteReader {
 public:
  ByteReader(std::span<const std::uint8_t> file, std::string_view source, std::uint64_t start)
      : file_(file), source_(source), pos_(start) {}

  std::uint64_t offset() const { return pos_; }
  std::uint64_t remaining() const { return file_.size() - pos_; }

  template <typename T>
  Status read(T& out, const FieldPath& path) {
    LPU_TRY(need(sizeof(T), path), "");
    out = load_le<T>(file_.data() + pos_);
    pos_ += sizeof(T);
    return {};
  }
  /// A reserved field of T: must read as zero.
  template <typename T>
  Status reserved(const FieldPath& path) {
    const std::uint64_t at = pos_;
    T v = 0;
    LPU_TRY(read(v, path), "");
    return v == 0 ? Status() : error_at(at, path, std::to_string(v) + " (expected 0: reserved)");
  }
  /// u32 length (at most kMaxStringBytes and the bytes left), then bytes.
  Status read_string(std::string& out, const FieldPath& path);
  /// A u32 count of records of at least `min_record_bytes` each; refused
  /// unless that many could fit in the bytes left, so a lying count never
  /// sizes an allocation.
  Status read_count(std::uint32_t& out, std::uint64_t min_record_bytes, const FieldPath& path);
  /// Four tag bytes that must equal `tag`.
  Status expect_tag(const char (&tag)[5], const FieldPath& path);
  /// Zero padding up to the next multiple of `alignment` of the offset.
  Status skip_padding(std::size_t alignment, const FieldPath& path);
  /// `n` bytes in place (the span stays valid as long as the file's bytes).
  Status view(std::uint64_t n, const std::uint8_t*& out, const FieldPath& path);

  /// Fails with "truncated" unless `n` bytes are left.
  Status need(std::uint64_t n, const FieldPath& path) const;
  /// "SOURCE @0xAT: PATH: WHAT" (data_loss unless `code` says otherwise).
  Status error_at(std::uint64_t at, const FieldPath& path, const std::string& what,
                  StatusCode code = StatusCode::kDataLoss) const;

 private:
  std::span<const std::uint8_t> file_;
  std::string_view source_;
  std::uint64_t pos_;
};

/// "0x1c8"
std::string hex(std::uint64_t v);

}  // namespace lpu::program::internal
