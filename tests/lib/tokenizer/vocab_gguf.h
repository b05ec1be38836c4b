#pragma once
// Crafted vocabularies: tokenizer metadata (no tensors) written by
// gguf::Writer into memory and loaded from there.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/tokenizer.h"
#include "lib/gguf/file.h"
#include "lib/gguf/writer.h"
#include "lib/tokenizer/load.h"
#include "tests/lib/model/tiny_gguf.h"

namespace lpu::testing {

class VocabGguf {
 public:
  VocabGguf& str(std::string_view key, std::string_view value) {
    writer_.set_string(std::string(key), std::string(value));
    return *this;
  }
  VocabGguf& u32(std::string_view key, std::uint32_t value) {
    writer_.set_u32(std::string(key), value);
    return *this;
  }
  VocabGguf& boolean(std::string_view key, bool value) {
    writer_.set_bool(std::string(key), value);
    return *this;
  }
  VocabGguf& strings(std::string_view key, const std::vector<std::string>& values) {
    writer_.set_string_array(std::string(key), values);
    return *this;
  }
  VocabGguf& floats(std::string_view key, const std::vector<float>& values) {
    writer_.set_f32_array(std::string(key), std::span(values));
    return *this;
  }
  VocabGguf& ints(std::string_view key, const std::vector<std::int32_t>& values) {
    writer_.set_i32_array(std::string(key), std::span(values));
    return *this;
  }

  /// Parses the written bytes as "crafted.gguf" and loads the vocabulary.
  Result<Tokenizer> load() const {
    LPU_ASSIGN_OR_RETURN(const std::vector<std::uint8_t> bytes, gguf_bytes(writer_));
    LPU_ASSIGN_OR_RETURN(gguf::File file, gguf::File::from_bytes(bytes, "crafted.gguf"));
    return tokenizer::load_tokenizer(file);
  }

 private:
  gguf::Writer writer_;
};

}  // namespace lpu::testing
