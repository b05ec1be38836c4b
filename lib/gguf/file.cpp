#include "lib/gguf/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "lib/gguf/cursor.h"

namespace lpu::gguf {

// Owns the bytes: an mmap of a file or a heap copy.
struct File::Mapping {
  void* addr = nullptr;
  std::size_t length = 0;
  std::vector<std::uint8_t> heap;
  ~Mapping() {
    if (addr != nullptr) munmap(addr, length);
  }
};

File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

namespace {

// Smallest encodings, used to bound counts by the bytes left before
// allocating anything: a key/value is a length (8), at least one key byte,
// a type (4) and a 1-byte value; a tensor info is a length (8), a type (4),
// n_dims (4), one dim (8) and an offset (8).
constexpr std::uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
constexpr std::uint64_t kMaxNameBytes = 1024;

std::uint64_t min_value_bytes(ValueType t) {
  switch (t) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kBool: return 1;
    case ValueType::kUint16: case ValueType::kInt16: return 2;
    case ValueType::kUint32: case ValueType::kInt32: case ValueType::kFloat32: return 4;
    case ValueType::kUint64: case ValueType::kInt64: case ValueType::kFloat64: return 8;
    case ValueType::kString: return 8;
    case ValueType::kArray: return 12;
  }
  return 1;
}

bool valid_value_type(std::uint32_t t) { return t <= static_cast<std::uint32_t>(ValueType::kFloat64); }

template <typename T, typename Wide>
Status read_scalar(Cursor& c, Value& v, const char* what, const std::string& key) {
  T x{};
  LPU_TRY(c.read(x, what, "key", key), "");
  v.data = static_cast<Wide>(x);
  return {};
}

Status read_value(Cursor& c, ValueType type, Value& v, int depth, const std::string& key);

Status read_array(Cursor& c, Value& v, int depth, const std::string& key) {
  const std::uint64_t at = c.offset();
  std::uint32_t elem_raw = 0;
  std::uint64_t count = 0;
  LPU_TRY(c.read(elem_raw, "array element type", "key", key), "");
  if (!valid_value_type(elem_raw)) {
    return c.error_at(at, StatusCode::kDataLoss,
                      "key '" + key + "': unknown array element type " + std::to_string(elem_raw) +
                          " (expected 0..12)");
  }
  const auto elem = static_cast<ValueType>(elem_raw);
  if (elem == ValueType::kArray && depth > 0) {
    return c.error_at(at, StatusCode::kUnimplemented,
                      "key '" + key + "': arrays nested more than two deep are not supported");
  }
  LPU_TRY(c.read(count, "array length", "key", key), "");
  if (count > c.remaining() / min_value_bytes(elem)) {
    return c.error_at(at, StatusCode::kDataLoss,
                      "key '" + key + "': array of " + std::to_string(count) + " " +
                          std::string(value_type_name(elem)) + " items cannot fit in the " +
                          std::to_string(c.remaining()) + " bytes left");
  }
  Array arr;
  arr.elem_type = elem;
  arr.items.resize(static_cast<std::size_t>(count));
  for (Value& item : arr.items) LPU_TRY(read_value(c, elem, item, depth + 1, key), "");
  v.data = std::move(arr);
  return {};
}

Status read_value(Cursor& c, ValueType type, Value& v, int depth, const std::string& key) {
  v.type = type;
  switch (type) {
    case ValueType::kUint8: return read_scalar<std::uint8_t, std::uint64_t>(c, v, "uint8 value", key);
    case ValueType::kInt8: return read_scalar<std::int8_t, std::int64_t>(c, v, "int8 value", key);
    case ValueType::kUint16: return read_scalar<std::uint16_t, std::uint64_t>(c, v, "uint16 value", key);
    case ValueType::kInt16: return read_scalar<std::int16_t, std::int64_t>(c, v, "int16 value", key);
    case ValueType::kUint32: return read_scalar<std::uint32_t, std::uint64_t>(c, v, "uint32 value", key);
    case ValueType::kInt32: return read_scalar<std::int32_t, std::int64_t>(c, v, "int32 value", key);
    case ValueType::kUint64: return read_scalar<std::uint64_t, std::uint64_t>(c, v, "uint64 value", key);
    case ValueType::kInt64: return read_scalar<std::int64_t, std::int64_t>(c, v, "int64 value", key);
    case ValueType::kFloat32: return read_scalar<float, double>(c, v, "float32 value", key);
    case ValueType::kFloat64: return read_scalar<double, double>(c, v, "float64 value", key);
    case ValueType::kBool: {
      const std::uint64_t at = c.offset();
      std::uint8_t b = 0;
      LPU_TRY(c.read(b, "bool value", "key", key), "");
      if (b > 1) {
        return c.error_at(at, StatusCode::kDataLoss,
                          "key '" + key + "': bool value " + std::to_string(b) + " (expected 0 or 1)");
      }
      v.data = b == 1;
      return {};
    }
    case ValueType::kString: {
      std::string s;
      LPU_TRY(c.read_string(s, "string value", "key", key), "");
      v.data = std::move(s);
      return {};
    }
    case ValueType::kArray: return read_array(c, v, depth, key);
  }
  return c.error(StatusCode::kInternal, "unreachable value type");
}

bool mul_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return __builtin_mul_overflow(a, b, &out);
}

}  // namespace

Result<File> File::open(const std::string& path, OpenOptions options) {
  File f;
  f.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument(path + ": not a regular file");
  }
  f.mapping_ = std::make_unique<Mapping>();
  f.size_ = static_cast<std::uint64_t>(st.st_size);
  if (f.size_ > 0) {
    void* addr = mmap(nullptr, static_cast<std::size_t>(f.size_), PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      ::close(fd);
      return resource_exhausted(path + ": mmap of " + std::to_string(f.size_) +
                                " bytes failed: " + std::strerror(errno));
    }
    f.mapping_->addr = addr;
    f.mapping_->length = static_cast<std::size_t>(f.size_);
    f.base_ = static_cast<const std::uint8_t*>(addr);
  }
  ::close(fd);
  LPU_TRY(f.parse(options), "");
  return f;
}

Result<File> File::from_bytes(std::span<const std::uint8_t> bytes, std::string name,
                              OpenOptions options) {
  File f;
  f.path_ = std::move(name);
  f.mapping_ = std::make_unique<Mapping>();
  f.mapping_->heap.assign(bytes.begin(), bytes.end());
  f.base_ = f.mapping_->heap.data();
  f.size_ = bytes.size();
  LPU_TRY(f.parse(options), "");
  return f;
}

Status File::parse(OpenOptions options) {
  Cursor c({base_, static_cast<std::size_t>(size_)}, path_);
  std::uint32_t magic = 0;
  LPU_TRY(c.read(magic, "magic"), "");
  if (magic != kMagic) {
    return c.error_at(0, StatusCode::kInvalidArgument,
                      "bad magic " + hex_offset(magic) + " (expected \"GGUF\", 0x46554747): not a GGUF file");
  }
  LPU_TRY(c.read(version_, "version"), "");
  if (version_ != 2 && version_ != 3) {
    return c.error_at(4, StatusCode::kUnimplemented,
                      "GGUF version " + std::to_string(version_) +
                          " is not supported (expected 2 or 3; a huge value suggests a big-endian file)");
  }
  std::uint64_t n_tensors = 0;
  std::uint64_t n_kv = 0;
  LPU_TRY(c.read(n_tensors, "tensor count"), "");
  LPU_TRY(c.read(n_kv, "metadata count"), "");
  if (n_tensors > c.remaining() / kMinTensorInfoBytes) {
    return c.error_at(8, StatusCode::kDataLoss,
                      "tensor count " + std::to_string(n_tensors) + " cannot fit in a " +
                          std::to_string(size_) + "-byte file");
  }
  if (n_kv > c.remaining() / kMinKvBytes) {
    return c.error_at(16, StatusCode::kDataLoss,
                      "metadata count " + std::to_string(n_kv) + " cannot fit in a " +
                          std::to_string(size_) + "-byte file");
  }

  std::unordered_set<std::string> keys;
  kvs_.resize(static_cast<std::size_t>(n_kv));
  for (KeyValue& kv : kvs_) {
    const std::uint64_t at = c.offset();
    LPU_TRY(c.read_string(kv.key, "metadata key"), "");
    if (kv.key.empty() || kv.key.size() > kMaxNameBytes) {
      return c.error_at(at, StatusCode::kDataLoss,
                        "metadata key of " + std::to_string(kv.key.size()) +
                            " bytes (expected 1.." + std::to_string(kMaxNameBytes) + ")");
    }
    if (!keys.insert(kv.key).second) {
      return c.error_at(at, StatusCode::kDataLoss, "duplicate metadata key '" + kv.key + "'");
    }
    const std::uint64_t type_at = c.offset();
    std::uint32_t type = 0;
    LPU_TRY(c.read(type, "metadata value type", "key", kv.key), "");
    if (!valid_value_type(type)) {
      return c.error_at(type_at, StatusCode::kDataLoss,
                        "key '" + kv.key + "': unknown value type " + std::to_string(type) +
                            " (expected 0..12)");
    }
    LPU_TRY(read_value(c, static_cast<ValueType>(type), kv.value, 0, kv.key), "");
  }

  if (const Value* a = find("general.alignment")) {
    if (a->type != ValueType::kUint32) {
      return invalid_argument(path_ + ": key 'general.alignment' has type " +
                              std::string(value_type_name(a->type)) + " (expected uint32)");
    }
    const auto al = std::get<std::uint64_t>(a->data);
    if (al == 0 || (al & (al - 1)) != 0) {
      return invalid_argument(path_ + ": key 'general.alignment' is " + std::to_string(al) +
                              " (expected a power of two)");
    }
    alignment_ = static_cast<std::uint32_t>(al);
  }

  std::unordered_set<std::string> names;
  tensors_.resize(static_cast<std::size_t>(n_tensors));
  for (TensorInfo& t : tensors_) {
    const std::uint64_t at = c.offset();
    LPU_TRY(c.read_string(t.name, "tensor name"), "");
    if (t.name.empty() || t.name.size() > kMaxNameBytes) {
      return c.error_at(at, StatusCode::kDataLoss,
                        "tensor name of " + std::to_string(t.name.size()) + " bytes (expected 1.." +
                            std::to_string(kMaxNameBytes) + ")");
    }
    if (!names.insert(t.name).second) {
      return c.error_at(at, StatusCode::kDataLoss, "duplicate tensor name '" + t.name + "'");
    }
    const std::string where = "tensor '" + t.name + "'";
    std::uint32_t n_dims = 0;
    LPU_TRY(c.read(n_dims, "dimension count", "tensor", t.name), "");
    if (n_dims == 0 || n_dims > kMaxDims) {
      return c.error_at(at, StatusCode::kDataLoss,
                        where + ": " + std::to_string(n_dims) + " dimensions (expected 1..4)");
    }
    t.dims.resize(n_dims);
    t.n_elements = 1;
    for (std::uint64_t& d : t.dims) {
      LPU_TRY(c.read(d, "dimension", "tensor", t.name), "");
      if (d > static_cast<std::uint64_t>(INT64_MAX) || mul_overflows(t.n_elements, d, t.n_elements) ||
          t.n_elements > static_cast<std::uint64_t>(INT64_MAX)) {
        return c.error_at(at, StatusCode::kDataLoss,
                          where + ": dimensions " + t.shape_string() + " overflow the element count");
      }
    }
    const std::uint64_t type_at = c.offset();
    std::uint32_t type_id = 0;
    LPU_TRY(c.read(type_id, "type", "tensor", t.name), "");
    LPU_TRY(c.read(t.offset, "data offset", "tensor", t.name), "");
    t.type = static_cast<TensorType>(type_id);
    auto traits = supported_type_traits(type_id);
    if (!traits) {
      if (!options.allow_unsupported_types || type_name(type_id) == "unknown") {
        return c.error_at(type_at, StatusCode::kUnimplemented,
                          where + ": type " + std::string(type_name(type_id)) + " (id " +
                              std::to_string(type_id) + ") is not supported (supported: " +
                              std::string(supported_type_list()) + ")");
      }
      t.supported = false;
    }
    (void)traits;
  }

  const std::uint64_t info_end = c.offset();
  const std::uint64_t pad = (alignment_ - info_end % alignment_) % alignment_;
  data_offset_ = info_end + pad;
  if (n_tensors == 0) {
    data_offset_ = std::min(data_offset_, size_);
    return {};
  }
  if (data_offset_ > size_) {
    return c.error_at(info_end, StatusCode::kDataLoss,
                      "truncated file: data section would start at " + hex_offset(data_offset_) +
                          " past the end of the " + std::to_string(size_) + "-byte file");
  }
  const std::uint64_t data_size = size_ - data_offset_;

  // Validate each tensor's byte range and that no two ranges overlap.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  ranges.reserve(tensors_.size());
  for (TensorInfo& t : tensors_) {
    const std::string where = path_ + ": tensor '" + t.name + "'";
    std::optional<TypeTraits> traits = supported_type_traits(static_cast<std::uint32_t>(t.type));
    std::uint32_t block_elems = traits ? traits->block_elems : 0;
    std::uint32_t block_bytes = traits ? traits->block_bytes : 0;
    if (!traits) {
      // Known but unsupported: geometry from the name table is not exposed,
      // so such tensors get no data view.
      t.n_bytes = 0;
      t.data = nullptr;
      continue;
    }
    if (t.dims[0] % block_elems != 0) {
      return data_loss(where + ": row length " + std::to_string(t.dims[0]) + " is not a multiple of " +
                       std::string(traits->name) + "'s block of " + std::to_string(block_elems));
    }
    std::uint64_t nbytes = 0;
    if (mul_overflows(t.n_elements / block_elems, block_bytes, nbytes)) {
      return data_loss(where + ": byte size overflows");
    }
    t.n_bytes = nbytes;
    if (t.offset % alignment_ != 0) {
      return data_loss(where + ": data offset " + hex_offset(t.offset) + " is not a multiple of the alignment " +
                       std::to_string(alignment_));
    }
    if (t.offset > data_size || nbytes > data_size - t.offset) {
      return data_loss(where + ": data [" + hex_offset(data_offset_ + t.offset) + ", +" +
                       std::to_string(nbytes) + " bytes) runs past the end of the " +
                       std::to_string(size_) + "-byte file");
    }
    t.data = base_ + data_offset_ + t.offset;
    if (nbytes > 0) ranges.emplace_back(t.offset, t.offset + nbytes);
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      for (const TensorInfo& t : tensors_) {
        if (t.offset == ranges[i].first && t.n_bytes > 0) {
          return data_loss(path_ + ": tensor '" + t.name + "': data at offset " + hex_offset(t.offset) +
                           " overlaps another tensor's data");
        }
      }
    }
  }
  return {};
}

const Value* File::find(std::string_view key) const {
  for (const KeyValue& kv : kvs_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  for (const TensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

}  // namespace lpu::gguf
