#include "lib/gguf/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "lib/gguf/file.h"
#include "lib/gguf/quantize.h"

namespace lpu::gguf {
namespace {

// The reader refuses longer keys and tensor names; never write what it
// cannot read back.
constexpr std::size_t kMaxNameBytes = 1024;

template <typename T>
void put(std::vector<std::uint8_t>& out, T v) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&v);  // little-endian host (x86-64)
  out.insert(out.end(), p, p + sizeof(T));
}

void put_string(std::vector<std::uint8_t>& out, const std::string& s) {
  put<std::uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

Status value_error(const std::string& key, const std::string& what) {
  return invalid_argument("key '" + key + "': " + what);
}

template <typename T>
Status put_unsigned(std::vector<std::uint8_t>& out, const Value& v, const std::string& key) {
  const auto* u = std::get_if<std::uint64_t>(&v.data);
  if (u == nullptr) {
    return value_error(
        key, std::string(value_type_name(v.type)) + " value does not hold an unsigned integer");
  }
  if (*u > std::numeric_limits<T>::max()) {
    return value_error(key, "value " + std::to_string(*u) + " does not fit " +
                                std::string(value_type_name(v.type)));
  }
  put(out, static_cast<T>(*u));
  return {};
}

template <typename T>
Status put_signed(std::vector<std::uint8_t>& out, const Value& v, const std::string& key) {
  const auto* i = std::get_if<std::int64_t>(&v.data);
  if (i == nullptr) {
    return value_error(
        key, std::string(value_type_name(v.type)) + " value does not hold a signed integer");
  }
  if (*i < std::numeric_limits<T>::min() || *i > std::numeric_limits<T>::max()) {
    return value_error(key, "value " + std::to_string(*i) + " does not fit " +
                                std::string(value_type_name(v.type)));
  }
  put(out, static_cast<T>(*i));
  return {};
}

Status put_value(std::vector<std::uint8_t>& out, const Value& v, const std::string& key, int depth);

Status put_array(std::vector<std::uint8_t>& out, const Value& v, const std::string& key,
                 int depth) {
  const auto* arr = std::get_if<Array>(&v.data);
  if (arr == nullptr) return value_error(key, "array value does not hold an Array");
  if (arr->elem_type == ValueType::kArray && depth > 0) {
    return value_error(key, "arrays nested more than two deep are not supported");
  }
  if (value_type_name(arr->elem_type) == "unknown") {
    return value_error(key, "unknown array element type " +
                                std::to_string(static_cast<std::uint32_t>(arr->elem_type)));
  }
  put<std::uint32_t>(out, static_cast<std::uint32_t>(arr->elem_type));
  put<std::uint64_t>(out, arr->items.size());
  for (std::size_t i = 0; i < arr->items.size(); ++i) {
    const Value& item = arr->items[i];
    if (item.type != arr->elem_type) {
      return value_error(key, "item " + std::to_string(i) + " has type " +
                                  std::string(value_type_name(item.type)) + " (expected " +
                                  std::string(value_type_name(arr->elem_type)) + ")");
    }
    LPU_TRY(put_value(out, item, key, depth + 1), "");
  }
  return {};
}

Status put_value(std::vector<std::uint8_t>& out, const Value& v, const std::string& key,
                 int depth) {
  switch (v.type) {
    case ValueType::kUint8:
      return put_unsigned<std::uint8_t>(out, v, key);
    case ValueType::kUint16:
      return put_unsigned<std::uint16_t>(out, v, key);
    case ValueType::kUint32:
      return put_unsigned<std::uint32_t>(out, v, key);
    case ValueType::kUint64:
      return put_unsigned<std::uint64_t>(out, v, key);
    case ValueType::kInt8:
      return put_signed<std::int8_t>(out, v, key);
    case ValueType::kInt16:
      return put_signed<std::int16_t>(out, v, key);
    case ValueType::kInt32:
      return put_signed<std::int32_t>(out, v, key);
    case ValueType::kInt64:
      return put_signed<std::int64_t>(out, v, key);
    case ValueType::kFloat32:
    case ValueType::kFloat64: {
      const auto* d = std::get_if<double>(&v.data);
      if (d == nullptr) return value_error(key, "float value does not hold a double");
      if (v.type == ValueType::kFloat32) {
        put(out, static_cast<float>(*d));
      } else {
        put(out, *d);
      }
      return {};
    }
    case ValueType::kBool: {
      const auto* b = std::get_if<bool>(&v.data);
      if (b == nullptr) return value_error(key, "bool value does not hold a bool");
      put<std::uint8_t>(out, *b ? 1 : 0);
      return {};
    }
    case ValueType::kString: {
      const auto* s = std::get_if<std::string>(&v.data);
      if (s == nullptr) return value_error(key, "string value does not hold a string");
      put_string(out, *s);
      return {};
    }
    case ValueType::kArray:
      return put_array(out, v, key, depth);
  }
  return value_error(key,
                     "unknown value type " + std::to_string(static_cast<std::uint32_t>(v.type)));
}

// Closes and (unless released) removes a temporary file.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void release() { released_ = true; }

 private:
  int fd_;
  std::string path_;
  bool released_ = false;
};

Status write_all(int fd, const std::uint8_t* p, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return resource_exhausted(path + ": write failed: " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

Status write_padding(int fd, std::uint64_t written, std::uint32_t alignment,
                     const std::string& path) {
  static const std::uint8_t kZeros[256] = {};
  const std::uint64_t pad = (alignment - written % alignment) % alignment;
  for (std::uint64_t left = pad; left > 0;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, sizeof(kZeros)));
    LPU_TRY(write_all(fd, kZeros, n, path), "");
    left -= n;
  }
  return {};
}

std::uint64_t padded(std::uint64_t n, std::uint32_t alignment) {
  return n + (alignment - n % alignment) % alignment;
}

}  // namespace

// --- metadata ---

void Writer::set(std::string key, Value value) {
  for (KeyValue& kv : kvs_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  kvs_.push_back({std::move(key), std::move(value)});
}

void Writer::set_u8(std::string key, std::uint8_t v) {
  set(std::move(key), {ValueType::kUint8, std::uint64_t{v}});
}
void Writer::set_i8(std::string key, std::int8_t v) {
  set(std::move(key), {ValueType::kInt8, std::int64_t{v}});
}
void Writer::set_u16(std::string key, std::uint16_t v) {
  set(std::move(key), {ValueType::kUint16, std::uint64_t{v}});
}
void Writer::set_i16(std::string key, std::int16_t v) {
  set(std::move(key), {ValueType::kInt16, std::int64_t{v}});
}
void Writer::set_u32(std::string key, std::uint32_t v) {
  set(std::move(key), {ValueType::kUint32, std::uint64_t{v}});
}
void Writer::set_i32(std::string key, std::int32_t v) {
  set(std::move(key), {ValueType::kInt32, std::int64_t{v}});
}
void Writer::set_u64(std::string key, std::uint64_t v) {
  set(std::move(key), {ValueType::kUint64, v});
}
void Writer::set_i64(std::string key, std::int64_t v) {
  set(std::move(key), {ValueType::kInt64, v});
}
void Writer::set_f32(std::string key, float v) {
  set(std::move(key), {ValueType::kFloat32, double{v}});
}
void Writer::set_f64(std::string key, double v) { set(std::move(key), {ValueType::kFloat64, v}); }
void Writer::set_bool(std::string key, bool v) { set(std::move(key), {ValueType::kBool, v}); }
void Writer::set_string(std::string key, std::string v) {
  set(std::move(key), {ValueType::kString, std::move(v)});
}

namespace {
template <typename T, typename Wide>
Value make_array(ValueType elem, std::span<const T> items) {
  Array arr;
  arr.elem_type = elem;
  arr.items.reserve(items.size());
  for (const T& x : items) {
    Value& item = arr.items.emplace_back();
    item.type = elem;
    item.data = static_cast<Wide>(x);
  }
  Value v;
  v.type = ValueType::kArray;
  v.data = std::move(arr);
  return v;
}
}  // namespace

void Writer::set_string_array(std::string key, const std::vector<std::string>& items) {
  set(std::move(key), make_array<std::string, std::string>(ValueType::kString, std::span(items)));
}
void Writer::set_i32_array(std::string key, std::span<const std::int32_t> items) {
  set(std::move(key), make_array<std::int32_t, std::int64_t>(ValueType::kInt32, items));
}
void Writer::set_u32_array(std::string key, std::span<const std::uint32_t> items) {
  set(std::move(key), make_array<std::uint32_t, std::uint64_t>(ValueType::kUint32, items));
}
void Writer::set_i64_array(std::string key, std::span<const std::int64_t> items) {
  set(std::move(key), make_array<std::int64_t, std::int64_t>(ValueType::kInt64, items));
}
void Writer::set_f32_array(std::string key, std::span<const float> items) {
  set(std::move(key), make_array<float, double>(ValueType::kFloat32, items));
}
void Writer::set_f64_array(std::string key, std::span<const double> items) {
  set(std::move(key), make_array<double, double>(ValueType::kFloat64, items));
}

bool Writer::remove(std::string_view key) {
  for (auto it = kvs_.begin(); it != kvs_.end(); ++it) {
    if (it->key == key) {
      kvs_.erase(it);
      return true;
    }
  }
  return false;
}

const Value* Writer::find(std::string_view key) const {
  for (const KeyValue& kv : kvs_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

// --- tensors ---

Result<std::uint64_t> Writer::check_tensor(const std::string& name,
                                           const std::vector<std::uint64_t>& dims,
                                           TensorType type) const {
  const std::string where = "tensor '" + name + "'";
  if (name.empty() || name.size() > kMaxNameBytes) {
    return invalid_argument("tensor name of " + std::to_string(name.size()) +
                            " bytes (expected 1.." + std::to_string(kMaxNameBytes) + ")");
  }
  for (const Tensor& t : tensors_) {
    if (t.name == name) return invalid_argument(where + ": added twice");
  }
  if (dims.empty() || dims.size() > static_cast<std::size_t>(kMaxDims)) {
    return invalid_argument(where + ": " + std::to_string(dims.size()) +
                            " dimensions (expected 1..4)");
  }
  const auto traits = supported_type_traits(static_cast<std::uint32_t>(type));
  if (!traits) {
    return unimplemented(
        where + ": type " + std::string(type_name(static_cast<std::uint32_t>(type))) +
        " cannot be written (supported: " + std::string(supported_type_list()) + ")");
  }
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) {
    if (d > static_cast<std::uint64_t>(INT64_MAX) || __builtin_mul_overflow(n, d, &n) ||
        n > static_cast<std::uint64_t>(INT64_MAX)) {
      return invalid_argument(where + ": dimensions overflow the element count");
    }
  }
  if (dims[0] % traits->block_elems != 0) {
    return invalid_argument(where + ": row length " + std::to_string(dims[0]) +
                            " is not a multiple of " + std::string(traits->name) + "'s block of " +
                            std::to_string(traits->block_elems));
  }
  const auto bytes = row_bytes(type, n);
  if (!bytes) return invalid_argument(where + ": byte size overflows");
  return *bytes;
}

Status Writer::add_tensor(std::string name, std::vector<std::uint64_t> dims, TensorType type,
                          std::vector<std::uint8_t> data) {
  LPU_ASSIGN_OR_RETURN(const std::uint64_t n_bytes, check_tensor(name, dims, type));
  if (data.size() != n_bytes) {
    return invalid_argument("tensor '" + name + "': " + std::to_string(data.size()) +
                            " bytes of data (expected " + std::to_string(n_bytes) + ")");
  }
  tensors_.push_back({std::move(name), std::move(dims), type, n_bytes, std::move(data), nullptr});
  return {};
}

Status Writer::add_tensor_f32(std::string name, std::vector<std::uint64_t> dims, TensorType type,
                              std::span<const float> values) {
  LPU_ASSIGN_OR_RETURN(const std::uint64_t n_bytes, check_tensor(name, dims, type));
  if (!can_quantize(type)) {
    return unimplemented("tensor '" + name + "': cannot encode fp32 values as " +
                         std::string(type_name(static_cast<std::uint32_t>(type))) +
                         " (supported: F32 F16 BF16 Q8_0)");
  }
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) n *= d;
  if (values.size() != n) {
    return invalid_argument("tensor '" + name + "': " + std::to_string(values.size()) +
                            " values (expected " + std::to_string(n) + ")");
  }
  std::vector<std::uint8_t> data(static_cast<std::size_t>(n_bytes));
  quantize_row(type, values.data(), data.data(), n);
  tensors_.push_back({std::move(name), std::move(dims), type, n_bytes, std::move(data), nullptr});
  return {};
}

Status Writer::add_tensor_lazy(std::string name, std::vector<std::uint64_t> dims, TensorType type,
                               TensorFiller fill) {
  LPU_ASSIGN_OR_RETURN(const std::uint64_t n_bytes, check_tensor(name, dims, type));
  if (!fill) return invalid_argument("tensor '" + name + "': empty filler");
  tensors_.push_back({std::move(name), std::move(dims), type, n_bytes, {}, std::move(fill)});
  return {};
}

// --- writing ---

Result<std::uint32_t> Writer::alignment() const {
  const Value* a = find("general.alignment");
  if (a == nullptr) return kDefaultAlignment;
  const auto* u = std::get_if<std::uint64_t>(&a->data);
  if (a->type != ValueType::kUint32 || u == nullptr) {
    return invalid_argument("key 'general.alignment' has type " +
                            std::string(value_type_name(a->type)) + " (expected uint32)");
  }
  if (*u == 0 || (*u & (*u - 1)) != 0 || *u > UINT32_MAX) {
    return invalid_argument("key 'general.alignment' is " + std::to_string(*u) +
                            " (expected a power of two)");
  }
  return static_cast<std::uint32_t>(*u);
}

Status Writer::serialize_header(std::uint32_t alignment, std::vector<std::uint8_t>& out) const {
  put<std::uint32_t>(out, kMagic);
  put<std::uint32_t>(out, 3);
  put<std::uint64_t>(out, tensors_.size());
  put<std::uint64_t>(out, kvs_.size());
  for (const KeyValue& kv : kvs_) {
    if (kv.key.empty() || kv.key.size() > kMaxNameBytes) {
      return invalid_argument("metadata key of " + std::to_string(kv.key.size()) +
                              " bytes (expected 1.." + std::to_string(kMaxNameBytes) + ")");
    }
    put_string(out, kv.key);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(kv.value.type));
    LPU_TRY(put_value(out, kv.value, kv.key, 0), "");
  }
  std::uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(out, t.name);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.dims.size()));
    for (std::uint64_t d : t.dims) put<std::uint64_t>(out, d);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.type));
    put<std::uint64_t>(out, offset);
    offset += padded(t.n_bytes, alignment);
  }
  out.resize(static_cast<std::size_t>(padded(out.size(), alignment)), 0);
  return {};
}

Status Writer::write(const std::string& path) const {
  auto fail = [&path](Status s) { return std::move(s).with_context(path); };
  auto al = alignment();
  if (!al.ok()) return fail(al.status());
  std::vector<std::uint8_t> header;
  if (Status s = serialize_header(*al, header); !s.ok()) return fail(std::move(s));

  std::string tmpl = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return not_found(path + ": cannot create a temporary file beside it: " + std::strerror(errno));
  TempFile tmp(fd, tmpl);
  LPU_TRY(write_all(tmp.fd(), header.data(), header.size(), path), "");
  std::vector<std::uint8_t> buffer;
  for (const Tensor& t : tensors_) {
    const std::uint8_t* bytes = t.data.data();
    if (t.fill) {
      buffer.resize(static_cast<std::size_t>(t.n_bytes));
      LPU_TRY(t.fill(std::span(buffer)), path + ": tensor '" + t.name + "'");
      bytes = buffer.data();
    }
    LPU_TRY(write_all(tmp.fd(), bytes, static_cast<std::size_t>(t.n_bytes), path), "");
    LPU_TRY(write_padding(tmp.fd(), t.n_bytes, *al, path), "");
  }
  ::fchmod(tmp.fd(), 0644);  // mkstemp creates 0600; a model file is not secret
  if (tmp.close() != 0) return resource_exhausted(path + ": close failed: " + std::strerror(errno));
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) {
    return failed_precondition(path + ": cannot rename " + tmp.path() +
                               " onto it: " + std::strerror(errno));
  }
  tmp.release();
  return {};
}

}  // namespace lpu::gguf
