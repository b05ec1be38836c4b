#include "lib/program/container.h"

#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "lib/core/physical_memory.h"
#include "lib/program/byte_io.h"

namespace lpu::program {
namespace {

constexpr std::uint8_t kMagic[8] = {'L', 'P', 'U', 'P', 'R', 'G', 'Z', 0};
constexpr std::size_t kHeaderBytes = 16;
constexpr int kLevel = 3;

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
  std::vector<std::uint8_t> out(kHeaderBytes);
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  const std::uint64_t n = serialized.size();
  internal::store_le(out.data() + 8, n);
  // Streamed in fixed chunks, so memory stays at the output's size rather
  // than the input's bound; the same input gives the same bytes.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, kLevel);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
  ZSTD_CCtx_setPledgedSrcSize(cctx, n);
  constexpr std::size_t kChunk = std::size_t{1} << 24;
  std::vector<std::uint8_t> buf(ZSTD_CStreamOutSize());
  std::size_t pos = 0;
  bool failed = false;
  while (!failed) {
    const std::size_t take = std::min(kChunk, serialized.size() - pos);
    const bool last = pos + take == serialized.size();
    ZSTD_inBuffer in{serialized.data() + pos, take, 0};
    const ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
    std::size_t left = 0;
    do {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      left = ZSTD_compressStream2(cctx, &o, &in, mode);
      if (ZSTD_isError(left)) {
        failed = true;
        break;
      }
      out.insert(out.end(), buf.data(), buf.data() + o.pos);
    } while (last ? left != 0 : in.pos < in.size);
    pos += take;
    if (last) break;
  }
  ZSTD_freeCCtx(cctx);
  if (failed) return std::vector<std::uint8_t>(serialized.begin(), serialized.end());  // kept raw
  return out;
}

Result<std::vector<std::uint8_t>> uncompress_program(std::span<const std::uint8_t> bytes,
                                                     std::string_view source) {
  if (bytes.size() < kHeaderBytes || !is_compressed_program(bytes)) {
    return error(source, 0, "header", "not a compressed Program (expected \"LPUPRGZ\\0\" and 16 bytes)");
  }
  const std::uint64_t size = internal::load_le<std::uint64_t>(bytes.data() + 8);
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
