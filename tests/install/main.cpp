// Loads a model through the installed package and checks a few facts.
#include <lpu/model.h>
#include <lpu/tokenizer.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  auto model = lpu::Model::load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().to_string().c_str());
    return 1;
  }
  auto tok = lpu::Tokenizer::from_gguf(argv[1]);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().to_string().c_str());
    return 1;
  }
  auto ids = tok->encode("Once upon a time", {});
  if (!ids.ok() || ids->empty()) return 1;
  std::printf("install consumer: %d layers, vocab %zu, %zu prompt tokens: ok\n", model->config().n_layer,
              tok->vocab_size(), ids->size());
  return 0;
}
