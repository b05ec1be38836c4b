// libFuzzer target: the loaders that read a GGUF file's metadata beyond the
// container, on arbitrary bytes. For every file gguf::File accepts, the
// model configuration and tensor check and the tokenizer loader must return
// a value or an error naming the file, never crash or read out of bounds.
// A vocabulary that loads then encodes text (fixed strings with special
// tokens, and the input's own last bytes as arbitrary text) and decodes the
// ids: every id must lie in the vocabulary, and the stream decoder's output
// must be valid UTF-8.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/tokenizer.h"
#include "lib/gguf/file.h"
#include "lib/model/config_internal.h"
#include "lib/tokenizer/load.h"

namespace {

constexpr char kName[] = "fuzz.gguf";
// Enough text to reach every merge path, little enough to stay fast.
constexpr std::size_t kMaxTextBytes = 512;

void require(bool ok) {
  if (!ok) std::abort();
}

bool names_input(const lpu::Status& s) { return s.message().find(kName) != std::string::npos; }

// Structural UTF-8 check (lead byte, continuation bytes, no overlongs,
// surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const std::uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

void encode_and_decode(const lpu::Tokenizer& tok, std::string_view text) {
  for (bool special : {false, true}) {
    auto ids = tok.encode(text, {.add_bos = false, .parse_special = special, .add_eos = false});
    if (!ids.ok()) continue;
    for (lpu::TokenId id : *ids)
      require(id >= 0 && static_cast<std::size_t>(id) < tok.vocab_size());
    (void)tok.decode(*ids, special);
    lpu::TokenStreamDecoder stream(tok, special);
    std::string out;
    for (lpu::TokenId id : *ids) out += stream.push(id);
    out += stream.flush();
    require(valid_utf8(out));
  }
}

void exercise_tokenizer(const lpu::gguf::File& f, std::span<const std::uint8_t> data) {
  auto tok = lpu::tokenizer::load_tokenizer(f);
  if (!tok.ok()) {
    require(names_input(tok.status()));
    return;
  }
  const std::size_t tail = std::min(data.size(), kMaxTextBytes);
  const std::string_view input_text(reinterpret_cast<const char*>(data.data() + data.size() - tail),
                                    tail);
  encode_and_decode(*tok, input_text);
  encode_and_decode(*tok,
                    " Hello, world! <s></s><|im_start|>user\n\xC3\xA9\xE2\x96\x81 12345 \t\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = lpu::gguf::File::from_bytes({data, size}, kName, {});
  if (!f.ok()) return 0;  // the container fuzzer covers rejected files
  auto config = lpu::model::model_config_from_gguf(*f);
  if (!config.ok()) {
    require(names_input(config.status()));
  } else {
    const lpu::Status tensors = lpu::model::check_model_tensors(*f, *config);
    require(tensors.ok() || names_input(tensors));
  }
  exercise_tokenizer(*f, {data, size});
  return 0;
}
