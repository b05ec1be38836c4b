// libFuzzer target: lpu-serve's request bodies (examples/serve/openai_api)
// on arbitrary bytes, for both endpoints. Every input must give a parsed
// request or an error with a 4xx status and a message (naming the field
// when one is at fault), never a crash or an escaped exception; a parsed
// request must hold exactly one kind of prompt and values in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "examples/serve/openai_api.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const lpu::serve::ServedModel model{"m", 512};
  for (const auto endpoint : {lpu::serve::Endpoint::kCompletions, lpu::serve::Endpoint::kChatCompletions}) {
    lpu::serve::ParsedRequest p;
    const auto error = lpu::serve::parse_request(endpoint, body, model, p);
    if (error) {
      require(error->http_status >= 400 && error->http_status < 500);
      require(!error->message.empty());
      require(!lpu::serve::error_body(*error).empty());
      continue;
    }
    const lpu::Request& r = p.request;
    const int kinds = !r.prompt.empty() + !r.text.empty() + !r.messages.empty();
    require(kinds == 1);
    require(r.max_tokens >= 1 && r.max_tokens <= 512);
    require(r.sampling.temperature >= 0.0f && r.sampling.top_p > 0.0f && r.sampling.top_p <= 1.0f);
    require(r.stop.size() <= 4);
  }
  return 0;
}
