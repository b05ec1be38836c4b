#pragma once
// GgufBuilder: emits the raw bytes of a GGUF file field by field, with knobs
// to corrupt any of them, so each reader failure has its own small file.
//
//   auto bytes = GgufBuilder().kv_u32("a", 1).tensor("t", {32, 2}, 0).build();
//   auto bad = GgufBuilder().version(99).build();
//
// Unless overridden, counts match what was added, tensor offsets are laid
// out back to back at the alignment, and tensor data are filled with a
// recognisable byte pattern.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lpu::testing {

class GgufBuilder {
 public:
  // --- header ---
  GgufBuilder& magic(std::uint32_t v);
  GgufBuilder& version(std::uint32_t v);
  /// Writes this tensor / metadata count instead of the real one.
  GgufBuilder& tensor_count(std::uint64_t v);
  GgufBuilder& kv_count(std::uint64_t v);
  /// Alignment used to lay out tensor data (does not add general.alignment).
  GgufBuilder& alignment(std::uint32_t v);

  // --- metadata: typed helpers and a raw form for any corruption ---
  GgufBuilder& kv_u8(const std::string& key, std::uint8_t v);
  GgufBuilder& kv_u32(const std::string& key, std::uint32_t v);
  GgufBuilder& kv_i32(const std::string& key, std::int32_t v);
  GgufBuilder& kv_u64(const std::string& key, std::uint64_t v);
  GgufBuilder& kv_f32(const std::string& key, float v);
  /// A bool stored as the byte `raw` (0 or 1 when valid).
  GgufBuilder& kv_bool_raw(const std::string& key, std::uint8_t raw);
  GgufBuilder& kv_string(const std::string& key, const std::string& v);
  GgufBuilder& kv_string_array(const std::string& key, const std::vector<std::string>& items);
  GgufBuilder& kv_i32_array(const std::string& key, const std::vector<std::int32_t>& items);
  /// Key, then the type id `type`, then `payload` verbatim.
  GgufBuilder& kv_raw(const std::string& key, std::uint32_t type,
                      const std::vector<std::uint8_t>& payload);
  /// Key bytes with a lying length prefix: `declared_len` instead of key.size().
  GgufBuilder& kv_key_len(const std::string& key, std::uint64_t declared_len);

  // --- tensors ---
  /// A tensor of GGML type id `type` with GGML `dims`; its data size is
  /// derived from the type's block geometry (0 for unknown types).
  GgufBuilder& tensor(const std::string& name, const std::vector<std::uint64_t>& dims,
                      std::uint32_t type);
  /// Knobs on the most recently added tensor.
  GgufBuilder& offset(std::uint64_t v);                // data offset to write
  GgufBuilder& n_dims(std::uint32_t v);                // dimension count to write
  GgufBuilder& data(std::vector<std::uint8_t> bytes);  // data bytes to store

  /// Bytes appended after the data section (or a negative count to drop).
  GgufBuilder& trailing(std::int64_t delta);

  std::vector<std::uint8_t> build() const;

  /// Little-endian encodings, for kv_raw payloads.
  static std::vector<std::uint8_t> le32(std::uint32_t v);
  static std::vector<std::uint8_t> le64(std::uint64_t v);

 private:
  struct Tensor {
    std::string name;
    std::vector<std::uint64_t> dims;
    std::uint32_t type;
    std::optional<std::uint64_t> offset;
    std::optional<std::uint32_t> n_dims;
    std::optional<std::vector<std::uint8_t>> data;
  };

  std::uint32_t magic_ = 0x46554747;
  std::uint32_t version_ = 3;
  std::optional<std::uint64_t> tensor_count_;
  std::optional<std::uint64_t> kv_count_;
  std::uint32_t alignment_ = 32;
  std::size_t n_kv_ = 0;
  std::vector<std::uint8_t> kv_bytes_;
  std::vector<Tensor> tensors_;
  std::int64_t trailing_ = 0;
};

/// Bytes of a GGML type's `n_elements`, from its block geometry; 0 for an
/// unknown id or a partial block.
std::uint64_t ggml_type_bytes(std::uint32_t type, std::uint64_t n_elements);

}  // namespace lpu::testing
