#include "tests/testing/gguf_builder.h"

#include <algorithm>
#include <cstring>

namespace lpu::testing {
namespace {

// GGML block geometry, written out independently of lib/gguf so the
// builder does not share a mistake with the code it tests.
struct Geometry {
  std::uint32_t type, block_elems, block_bytes;
};
constexpr Geometry kGeometry[] = {
    {0, 1, 4},      {1, 1, 2},      {2, 32, 18},   {3, 32, 20},    {6, 32, 22},    {7, 32, 24},
    {8, 32, 34},    {9, 32, 36},    {10, 256, 84}, {11, 256, 110}, {12, 256, 144}, {13, 256, 176},
    {14, 256, 210}, {15, 256, 292}, {16, 256, 66}, {17, 256, 74},  {18, 256, 98},  {30, 1, 2},
};

void append(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& b) {
  out.insert(out.end(), b.begin(), b.end());
}

void append_string(std::vector<std::uint8_t>& out, const std::string& s, std::uint64_t len) {
  append(out, GgufBuilder::le64(len));
  out.insert(out.end(), s.begin(), s.end());
}

std::uint64_t pad_to(std::uint64_t n, std::uint32_t a) { return a == 0 ? n : (n + a - 1) / a * a; }

}  // namespace

std::uint64_t ggml_type_bytes(std::uint32_t type, std::uint64_t n_elements) {
  for (const Geometry& g : kGeometry) {
    if (g.type == type)
      return n_elements % g.block_elems != 0 ? 0 : n_elements / g.block_elems * g.block_bytes;
  }
  return 0;
}

std::vector<std::uint8_t> GgufBuilder::le32(std::uint32_t v) {
  std::vector<std::uint8_t> b(4);
  std::memcpy(b.data(), &v, 4);
  return b;
}

std::vector<std::uint8_t> GgufBuilder::le64(std::uint64_t v) {
  std::vector<std::uint8_t> b(8);
  std::memcpy(b.data(), &v, 8);
  return b;
}

GgufBuilder& GgufBuilder::magic(std::uint32_t v) {
  magic_ = v;
  return *this;
}
GgufBuilder& GgufBuilder::version(std::uint32_t v) {
  version_ = v;
  return *this;
}
GgufBuilder& GgufBuilder::tensor_count(std::uint64_t v) {
  tensor_count_ = v;
  return *this;
}
GgufBuilder& GgufBuilder::kv_count(std::uint64_t v) {
  kv_count_ = v;
  return *this;
}
GgufBuilder& GgufBuilder::alignment(std::uint32_t v) {
  alignment_ = v;
  return *this;
}
GgufBuilder& GgufBuilder::trailing(std::int64_t delta) {
  trailing_ = delta;
  return *this;
}

GgufBuilder& GgufBuilder::kv_raw(const std::string& key, std::uint32_t type,
                                 const std::vector<std::uint8_t>& payload) {
  append_string(kv_bytes_, key, key.size());
  append(kv_bytes_, le32(type));
  append(kv_bytes_, payload);
  ++n_kv_;
  return *this;
}

GgufBuilder& GgufBuilder::kv_key_len(const std::string& key, std::uint64_t declared_len) {
  append_string(kv_bytes_, key, declared_len);
  ++n_kv_;
  return *this;
}

GgufBuilder& GgufBuilder::kv_u8(const std::string& key, std::uint8_t v) {
  return kv_raw(key, 0, {v});
}
GgufBuilder& GgufBuilder::kv_u32(const std::string& key, std::uint32_t v) {
  return kv_raw(key, 4, le32(v));
}
GgufBuilder& GgufBuilder::kv_i32(const std::string& key, std::int32_t v) {
  return kv_raw(key, 5, le32(static_cast<std::uint32_t>(v)));
}
GgufBuilder& GgufBuilder::kv_u64(const std::string& key, std::uint64_t v) {
  return kv_raw(key, 10, le64(v));
}
GgufBuilder& GgufBuilder::kv_f32(const std::string& key, float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, 4);
  return kv_raw(key, 6, le32(bits));
}
GgufBuilder& GgufBuilder::kv_bool_raw(const std::string& key, std::uint8_t raw) {
  return kv_raw(key, 7, {raw});
}

GgufBuilder& GgufBuilder::kv_string(const std::string& key, const std::string& v) {
  std::vector<std::uint8_t> p;
  append_string(p, v, v.size());
  return kv_raw(key, 8, p);
}

GgufBuilder& GgufBuilder::kv_string_array(const std::string& key,
                                          const std::vector<std::string>& items) {
  std::vector<std::uint8_t> p = le32(8);
  append(p, le64(items.size()));
  for (const std::string& s : items) append_string(p, s, s.size());
  return kv_raw(key, 9, p);
}

GgufBuilder& GgufBuilder::kv_i32_array(const std::string& key,
                                       const std::vector<std::int32_t>& items) {
  std::vector<std::uint8_t> p = le32(5);
  append(p, le64(items.size()));
  for (std::int32_t v : items) append(p, le32(static_cast<std::uint32_t>(v)));
  return kv_raw(key, 9, p);
}

GgufBuilder& GgufBuilder::tensor(const std::string& name, const std::vector<std::uint64_t>& dims,
                                 std::uint32_t type) {
  tensors_.push_back({name, dims, type, std::nullopt, std::nullopt, std::nullopt});
  return *this;
}

GgufBuilder& GgufBuilder::offset(std::uint64_t v) {
  tensors_.back().offset = v;
  return *this;
}
GgufBuilder& GgufBuilder::n_dims(std::uint32_t v) {
  tensors_.back().n_dims = v;
  return *this;
}
GgufBuilder& GgufBuilder::data(std::vector<std::uint8_t> bytes) {
  tensors_.back().data = std::move(bytes);
  return *this;
}

std::vector<std::uint8_t> GgufBuilder::build() const {
  std::vector<std::uint8_t> out = le32(magic_);
  append(out, le32(version_));
  append(out, le64(tensor_count_.value_or(tensors_.size())));
  append(out, le64(kv_count_.value_or(n_kv_)));
  append(out, kv_bytes_);

  // Lay out data back to back; a tensor whose dims overflow gets no bytes.
  std::vector<std::vector<std::uint8_t>> blobs;
  std::vector<std::uint64_t> offsets;
  std::uint64_t next = 0;
  for (const Tensor& t : tensors_) {
    std::uint64_t n = 1;
    bool overflow = false;
    for (std::uint64_t d : t.dims) overflow |= __builtin_mul_overflow(n, d, &n);
    std::vector<std::uint8_t> blob;
    if (t.data) {
      blob = *t.data;
    } else if (!overflow && n < (1u << 24)) {
      blob.resize(static_cast<std::size_t>(ggml_type_bytes(t.type, n)));
      for (std::size_t i = 0; i < blob.size(); ++i)
        blob[i] = static_cast<std::uint8_t>(i * 37 + 11);
    }
    offsets.push_back(t.offset.value_or(next));
    next = pad_to(offsets.back() + blob.size(), alignment_);
    blobs.push_back(std::move(blob));
  }
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    append_string(out, t.name, t.name.size());
    append(out, le32(t.n_dims.value_or(static_cast<std::uint32_t>(t.dims.size()))));
    for (std::uint64_t d : t.dims) append(out, le64(d));
    append(out, le32(t.type));
    append(out, le64(offsets[i]));
  }
  out.resize(static_cast<std::size_t>(pad_to(out.size(), alignment_)), 0);
  const std::size_t data_start = out.size();
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    const std::size_t at = data_start + static_cast<std::size_t>(offsets[i]);
    if (offsets[i] > (1u << 26)) continue;  // a deliberately bogus offset: no bytes there
    if (blobs[i].empty()) continue;
    if (out.size() < at + blobs[i].size()) out.resize(at + blobs[i].size(), 0);
    std::memcpy(out.data() + at, blobs[i].data(), blobs[i].size());
  }
  if (!tensors_.empty()) out.resize(static_cast<std::size_t>(pad_to(out.size(), alignment_)), 0);
  if (trailing_ >= 0) {
    out.resize(out.size() + static_cast<std::size_t>(trailing_), 0);
  } else {
    out.resize(out.size() -
               std::min<std::size_t>(out.size(), static_cast<std::size_t>(-trailing_)));
  }
  return out;
}

}  // namespace lpu::testing
