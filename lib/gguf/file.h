#pragma once
// gguf::File: a validated, memory-mapped GGUF (v2 or v3) file.
//
// open() checks every header field, metadata length, tensor dimension, type,
// offset and alignment against the file size with overflow-safe arithmetic
// before anything is used; afterwards tensor data are zero-copy views into
// the mapping. Errors name the file, the byte offset and what was expected.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/status.h"
#include "lib/gguf/tensor_type.h"
#include "lib/gguf/value.h"

namespace lpu::gguf {

inline constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr std::uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

/// Description of one tensor and a view of its bytes.
struct TensorInfo {
  std::string name;
  /// GGML order: dims[0] is the contiguous (row) length.
  std::vector<std::uint64_t> dims;
  TensorType type = TensorType::kF32;
  /// False for a known GGML type this library does not read (only with
  /// OpenOptions::allow_unsupported_types).
  bool supported = true;
  /// Offset relative to the start of the data section.
  std::uint64_t offset = 0;
  std::uint64_t n_elements = 0;
  std::uint64_t n_bytes = 0;
  /// Points into the file's mapping (valid while the File lives).
  const std::uint8_t* data = nullptr;

  std::uint64_t row_length() const { return dims.empty() ? 1 : dims[0]; }
  std::uint64_t n_rows() const { return dims.empty() || dims[0] == 0 ? 0 : n_elements / dims[0]; }
  std::span<const std::uint8_t> bytes() const { return {data, static_cast<std::size_t>(n_bytes)}; }
  /// "[576, 49152]"
  std::string shape_string() const;
};

struct OpenOptions {
  /// Accept tensors of known but unsupported GGML types (their data views are
  /// still validated); `lpu inspect` uses this to list what would not load.
  bool allow_unsupported_types = false;
};

class File {
 public:
  /// Maps and validates the file at `path`.
  static Result<File> open(const std::string& path, OpenOptions options = {});
  /// Validates a copy of `bytes`; `name` stands for the path in messages.
  static Result<File> from_bytes(std::span<const std::uint8_t> bytes, std::string name,
                                 OpenOptions options = {});

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

  const std::string& path() const { return path_; }
  std::uint32_t version() const { return version_; }
  std::uint32_t alignment() const { return alignment_; }
  std::uint64_t file_size() const { return size_; }
  std::uint64_t data_offset() const { return data_offset_; }

  const std::vector<KeyValue>& metadata() const { return kvs_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  /// nullptr when absent.
  const Value* find(std::string_view key) const;
  const TensorInfo* find_tensor(std::string_view name) const;

  // Typed getters: an error naming the file and key when the key is absent
  // or holds another type. Integer getters accept any integer type whose
  // value fits; float getters accept float32/float64.
  Result<std::int64_t> get_int(std::string_view key) const;
  Result<std::uint32_t> get_u32(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string> get_string(std::string_view key) const;
  Result<std::vector<std::string>> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_float_array(std::string_view key) const;
  Result<std::vector<std::int64_t>> get_int_array(std::string_view key) const;

  /// Value of `key` or `fallback` when the key is absent (errors still when
  /// present with a wrong type).
  Result<std::int64_t> get_int_or(std::string_view key, std::int64_t fallback) const;
  Result<double> get_float_or(std::string_view key, double fallback) const;
  Result<bool> get_bool_or(std::string_view key, bool fallback) const;

 private:
  struct Mapping;
  File() = default;
  Status parse(OpenOptions options);
  Status type_error(std::string_view key, const Value& v, std::string_view expected) const;

  std::string path_;
  std::unique_ptr<Mapping> mapping_;
  const std::uint8_t* base_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = kDefaultAlignment;
  std::uint64_t data_offset_ = 0;
  std::vector<KeyValue> kvs_;
  std::vector<TensorInfo> tensors_;
};

}  // namespace lpu::gguf
