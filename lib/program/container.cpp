#include "lib/program/container.h"

#include <zstd.h>

#include <cstring>
#include <string>

#include "lib/core/physical_memory.h"

namespace lpu::program {
namespace {

constexpr std::uint8_t kMagic[8] = {'L', 'P', 'U', 'P', 'R', 'G', 'Z', 0};
constexpr std::size_t kHeaderBytes = 16;
constexpr int kLevel = 3;

std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

Status error(std::string_view source, std::size_t at, std::string_view field, const std::string& what) {
  char off[32];
  std::snprintf(off, sizeof off, "0x%zx", at);
  return data_loss(std::string(source) + " @" + off + ": " + std::string(field) + ": " + what);
}

}  // namespace

bool is_compressed_program(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0;
}

std::vector<std::uint8_t> compress_program(std::span<const std::uint8_t> serialized) {
  std::vector<std::uint8_t> out(kHeaderBytes + ZSTD_compressBound(serialized.size()));
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  std::uint64_t n = serialized.size();
  for (int i = 0; i < 8; ++i) out[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, kLevel);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
  const std::size_t written = ZSTD_compress2(cctx, out.data() + kHeaderBytes, out.size() - kHeaderBytes,
                                             serialized.data(), serialized.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(written)) {  // cannot happen with a bound-sized buffer; keep the file raw
    return std::vector<std::uint8_t>(serialized.begin(), serialized.end());
  }
  out.resize(kHeaderBytes + written);
  return out;
}

Result<std::vector<std::uint8_t>> uncompress_program(std::span<const std::uint8_t> bytes,
                                                     std::string_view source) {
  if (bytes.size() < kHeaderBytes || !is_compressed_program(bytes)) {
    return error(source, 0, "header", "not a compressed Program (expected \"LPUPRGZ\\0\" and 16 bytes)");
  }
  const std::uint64_t size = load_u64(bytes.data() + 8);
  const std::span<const std::uint8_t> frame = bytes.subspan(kHeaderBytes);
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) {
    return error(source, kHeaderBytes, "frame", "not a zstd frame with its content size");
  }
  if (content != size) {
    return error(source, 8, "size", std::to_string(size) + " (expected " + std::to_string(content) +
                                        ", the frame's content size)");
  }
  if (size > physical_memory_bytes()) {
    return Status(StatusCode::kResourceExhausted,
                  std::string(source) + ": the Program inside is " + std::to_string(size) +
                      " bytes, more than this host's memory");
  }
  const std::size_t frame_bytes = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_bytes) || frame_bytes != frame.size()) {
    return error(source, kHeaderBytes, "frame",
                 ZSTD_isError(frame_bytes) ? std::string("truncated or corrupt (") + ZSTD_getErrorName(frame_bytes) + ")"
                                           : std::to_string(frame.size() - frame_bytes) + " bytes after the frame (expected none)");
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>(size));
  const std::size_t got = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(got) || got != size) {
    return error(source, kHeaderBytes, "frame",
                 ZSTD_isError(got) ? std::string("corrupt (") + ZSTD_getErrorName(got) + ")"
                                   : std::to_string(got) + " bytes decompressed (expected " + std::to_string(size) + ")");
  }
  return out;
}

}  // namespace lpu::program
