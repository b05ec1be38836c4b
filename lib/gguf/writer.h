#pragma once
// gguf::Writer: collects metadata and tensors and writes a GGUF v3 file.
//
// Layout: header, metadata in insertion order, tensor infos in insertion
// order, zero padding to the alignment, then each tensor's data padded with
// zeros to the alignment (the last one too), as ggml's own writer lays it
// out. The alignment is 32 unless `general.alignment` (uint32, a power of
// two) says otherwise. write() goes through a temporary file in the target
// directory and renames it, so a reader never sees a half-written file.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/status.h"
#include "lib/gguf/tensor_type.h"
#include "lib/gguf/value.h"

namespace lpu::gguf {

/// Produces a tensor's encoded bytes at write time into `out`, which has
/// exactly the tensor's byte size. Lets a writer stream tensors that are
/// generated or converted on the fly instead of holding them all in memory.
using TensorFiller = std::function<Status(std::span<std::uint8_t> out)>;

class Writer {
 public:
  // --- Metadata. Setting a key that exists replaces its value in place. ---

  /// Sets `key` to `value`; write() checks that `value` is well formed
  /// (the variant alternative matches `value.type`, arrays are homogeneous).
  void set(std::string key, Value value);
  void set_u8(std::string key, std::uint8_t v);
  void set_i8(std::string key, std::int8_t v);
  void set_u16(std::string key, std::uint16_t v);
  void set_i16(std::string key, std::int16_t v);
  void set_u32(std::string key, std::uint32_t v);
  void set_i32(std::string key, std::int32_t v);
  void set_u64(std::string key, std::uint64_t v);
  void set_i64(std::string key, std::int64_t v);
  void set_f32(std::string key, float v);
  void set_f64(std::string key, double v);
  void set_bool(std::string key, bool v);
  void set_string(std::string key, std::string v);
  void set_string_array(std::string key, const std::vector<std::string>& items);
  void set_i32_array(std::string key, std::span<const std::int32_t> items);
  void set_u32_array(std::string key, std::span<const std::uint32_t> items);
  void set_i64_array(std::string key, std::span<const std::int64_t> items);
  void set_f32_array(std::string key, std::span<const float> items);
  void set_f64_array(std::string key, std::span<const double> items);

  /// Removes `key`; false when it was not set.
  bool remove(std::string_view key);
  /// nullptr when `key` is not set.
  const Value* find(std::string_view key) const;
  const std::vector<KeyValue>& metadata() const { return kvs_; }

  // --- Tensors, written in the order added. `dims` are in GGML order
  // (dims[0] is the contiguous row length), 1 to 4 of them. ---

  /// Adds already-encoded bytes; `data` must hold exactly
  /// row_bytes(type, n_elements) bytes.
  Status add_tensor(std::string name, std::vector<std::uint64_t> dims, TensorType type,
                    std::vector<std::uint8_t> data);
  /// Encodes fp32 `values` as `type` (F32, F16, BF16 or Q8_0; see
  /// quantize.h) and adds them.
  Status add_tensor_f32(std::string name, std::vector<std::uint64_t> dims, TensorType type,
                        std::span<const float> values);
  /// Adds a tensor whose bytes `fill` produces during write().
  Status add_tensor_lazy(std::string name, std::vector<std::uint64_t> dims, TensorType type,
                         TensorFiller fill);

  std::size_t tensor_count() const { return tensors_.size(); }

  /// Writes the file to `path` (atomically: temporary file + rename). Errors
  /// name the path, and the key or tensor at fault.
  Status write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<std::uint64_t> dims;
    TensorType type;
    std::uint64_t n_bytes;
    std::vector<std::uint8_t> data;  // empty when `fill` is set
    TensorFiller fill;
  };

  Result<std::uint64_t> check_tensor(const std::string& name,
                                     const std::vector<std::uint64_t>& dims, TensorType type) const;
  Result<std::uint32_t> alignment() const;
  Status serialize_header(std::uint32_t alignment, std::vector<std::uint8_t>& out) const;

  std::vector<KeyValue> kvs_;
  std::vector<Tensor> tensors_;
};

}  // namespace lpu::gguf
