#pragma once
// A tiny in-memory GGUF (v3, no tensors) writer for crafted vocabularies.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/tokenizer.h"
#include "lib/gguf/file.h"
#include "lib/tokenizer/load.h"

namespace lpu::testing {

class VocabGguf {
 public:
  VocabGguf& str(std::string_view key, std::string_view value) {
    head(key, 8);
    put_str(value);
    return *this;
  }
  VocabGguf& u32(std::string_view key, std::uint32_t value) {
    head(key, 4);
    put(value);
    return *this;
  }
  VocabGguf& boolean(std::string_view key, bool value) {
    head(key, 7);
    body_.push_back(value ? 1 : 0);
    return *this;
  }
  VocabGguf& strings(std::string_view key, const std::vector<std::string>& values) {
    array_head(key, 8, values.size());
    for (const std::string& v : values) put_str(v);
    return *this;
  }
  VocabGguf& floats(std::string_view key, const std::vector<float>& values) {
    array_head(key, 6, values.size());
    for (float v : values) put(v);
    return *this;
  }
  VocabGguf& ints(std::string_view key, const std::vector<std::int32_t>& values) {
    array_head(key, 5, values.size());
    for (std::int32_t v : values) put(v);
    return *this;
  }

  std::vector<std::uint8_t> bytes() const {
    std::vector<std::uint8_t> out;
    auto raw = [&](const auto& v) {
      const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
      out.insert(out.end(), p, p + sizeof(v));
    };
    raw(std::uint32_t{0x46554747});
    raw(std::uint32_t{3});
    raw(std::uint64_t{0});
    raw(n_kv_);
    out.insert(out.end(), body_.begin(), body_.end());
    return out;
  }

  /// Parses the bytes as "crafted.gguf" and loads the vocabulary.
  Result<Tokenizer> load() const {
    const auto b = bytes();
    LPU_ASSIGN_OR_RETURN(gguf::File file, gguf::File::from_bytes(b, "crafted.gguf"));
    return tokenizer::load_tokenizer(file);
  }

 private:
  template <typename T>
  void put(T v) {
    std::uint8_t buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    body_.insert(body_.end(), buf, buf + sizeof(T));
  }
  void put_str(std::string_view s) {
    put(static_cast<std::uint64_t>(s.size()));
    body_.insert(body_.end(), s.begin(), s.end());
  }
  void head(std::string_view key, std::uint32_t type) {
    ++n_kv_;
    put_str(key);
    put(type);
  }
  void array_head(std::string_view key, std::uint32_t elem_type, std::size_t n) {
    head(key, 9);
    put(elem_type);
    put(static_cast<std::uint64_t>(n));
  }

  std::vector<std::uint8_t> body_;
  std::uint64_t n_kv_ = 0;
};

}  // namespace lpu::testing
