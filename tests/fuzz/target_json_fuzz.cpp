// libFuzzer target: the target JSON reader on arbitrary bytes. Every input
// must give a Target or an error naming the source, never a crash or an
// escaped exception. A Target that loads must survive the canonical round
// trip: target_to_json, then target_from_json, gives an equal Target and
// the same text again (so target_hash is a function of the Target).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/target/target.h"

namespace {

constexpr char kName[] = "fuzz.json";

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = lpu::target::target_from_json(text, kName);
  if (!t.ok()) {
    require(t.status().message().find(kName) != std::string::npos);
    return 0;
  }
  const std::string json = lpu::target::target_to_json(*t);
  auto back = lpu::target::target_from_json(json, kName);
  require(back.ok());
  require(*back == *t);
  require(lpu::target::target_to_json(*back) == json);
  return 0;
}
