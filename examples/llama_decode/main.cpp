// A greedy decode loop through the public API only.
// Usage: llama_decode MODEL.gguf "prompt" [n_tokens]
#include <lpu/model.h>
#include <lpu/reference.h>
#include <lpu/tokenizer.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

static int fail(const lpu::Status& s) {
  std::fprintf(stderr, "llama_decode: %s\n", s.to_string().c_str());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.gguf PROMPT [N]\n", argv[0]);
    return 1;
  }
  const int n_predict = argc > 3 ? std::atoi(argv[3]) : 32;
  auto model = lpu::Model::load(argv[1]);
  if (!model.ok()) return fail(model.status());
  auto tokenizer = lpu::Tokenizer::from_gguf(argv[1]);
  if (!tokenizer.ok()) return fail(tokenizer.status());

  lpu::EncodeOptions encode;
  encode.add_bos = tokenizer->default_add_bos();
  auto prompt = tokenizer->encode(argv[2], encode);
  if (!prompt.ok()) return fail(prompt.status());

  const int context = static_cast<int>(prompt->size()) + n_predict;
  auto session = lpu::ReferenceSession::create(*model, context);
  if (!session.ok()) return fail(session.status());

  lpu::TokenStreamDecoder stream(*tokenizer);
  auto logits = session->forward(*prompt, /*all_logits=*/false);
  for (int i = 0; i < n_predict && logits.ok(); ++i) {
    const lpu::TokenId next = static_cast<lpu::TokenId>(std::max_element(logits->begin(), logits->end()) - logits->begin());
    if (tokenizer->is_end_of_generation(next)) break;
    std::fputs(stream.push(next).c_str(), stdout);
    std::fflush(stdout);
    const lpu::TokenId fed[1] = {next};
    logits = session->forward(fed, /*all_logits=*/false);
  }
  if (!logits.ok()) return fail(logits.status());
  std::printf("%s\n", stream.flush().c_str());
  return 0;
}
