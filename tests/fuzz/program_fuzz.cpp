// libFuzzer target: the Program parser on arbitrary bytes must return a
// Program or an error naming the input, never crash, hang or read out of
// bounds. A Program it accepts must re-serialise to the same bytes (but for
// the checksum, which the fuzzing entry point does not compare, and the
// minor version), load again through the checked entry point, and survive
// validate() with several capacity tables and the disassembler.
//
// The checksum would stop almost every mutation at the header, so in
// fuzzing builds (LPU_FUZZING, set by tests/fuzz/CMakeLists.txt for this
// target only) the input goes through internal::deserialize_unchecked.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "lib/program/format_internal.h"
#include "lib/program/program.h"

namespace {

constexpr char kName[] = "fuzz.lpuprog";

void require(bool ok) {
  if (!ok) std::abort();
}

lpu::Result<lpu::program::Program> parse(std::span<const std::uint8_t> bytes) {
#ifdef LPU_FUZZING
  return lpu::program::internal::deserialize_unchecked(bytes, kName);
#else
  return lpu::program::deserialize(bytes, kName);
#endif
}

void check_round_trip(std::span<const std::uint8_t> in, const lpu::program::Program& p) {
  using namespace lpu::program::internal;
  const std::vector<std::uint8_t> out = lpu::program::serialize(p);
  require(out.size() == in.size());
  // Everything but the minor version (an older minor is rewritten as ours)
  // and the checksum (not compared on the way in).
  require(std::memcmp(out.data(), in.data(), kMinorAt) == 0);
  require(std::memcmp(out.data() + kFlagsAt, in.data() + kFlagsAt, kChecksumAt - kFlagsAt) == 0);
  const std::size_t rest = kChecksumAt + kChecksumBytes;
  require(std::memcmp(out.data() + rest, in.data() + rest, in.size() - rest) == 0);
  auto again = lpu::program::deserialize(out, kName);
  require(again.ok());
  require(lpu::program::serialize(*again) == out);
}

void check_meaning(const lpu::program::Program& p) {
  // None, a few small pools, and every pool index large.
  const std::vector<std::uint64_t> none;
  const std::vector<std::uint64_t> small = {65536, 65536, 1u << 20};
  const std::vector<std::uint64_t> all(255, std::uint64_t{1} << 40);
  for (const auto* caps : {&none, &small, &all}) {
    const lpu::Status s = lpu::program::validate(p, *caps, kName);
    if (!s.ok()) require(s.message().rfind(kName, 0) == 0);
  }
  volatile std::size_t sink = lpu::program::disassemble(p).size();
  (void)sink;
  for (const auto& v : p.variants) require(p.find_variant(v.name) != nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  auto p = parse(in);
  if (!p.ok()) {
    require(p.status().message().rfind(kName, 0) == 0);  // errors name the input
    return 0;
  }
  check_round_trip(in, *p);
  check_meaning(*p);
  return 0;
}
