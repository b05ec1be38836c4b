// The Program binary format: writing, the header checks and file I/O.
// docs/program-format.md is the specification; format_parse.cpp parses
// the payload.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>

#include "lib/core/sha256.h"
#include "lib/program/container.h"
#include "lib/program/byte_io.h"
#include "lib/program/format_internal.h"
#include "lib/program/program.h"

namespace lpu::program {
namespace internal {
namespace {

void put_operand(ByteWriter& w, const isa::Operand& o) {
  w.put(o.pool);
  w.put(o.reserved);
  w.put(o.index_reg);
  w.put(o.bytes);
  w.put(o.offset);
}

// Field by field in isa::Instruction's order (docs/program-format.md,
// "Instruction records"): the same bytes as the struct on a little-endian
// host, without relying on one.
void put_instruction(ByteWriter& w, const isa::Instruction& in) {
  w.put(static_cast<std::uint8_t>(in.op));
  w.put(static_cast<std::uint8_t>(in.unit));
  w.put(in.unit_index);
  w.put(in.flags);
  w.put(in.op_id);
  w.put(in.issue_cycle);
  w.put(in.duration);
  w.put(in.seq);
  for (std::uint32_t v : in.p) w.put(v);
  w.put(in.reserved);
  for (const isa::Operand& o : in.src) put_operand(w, o);
  put_operand(w, in.dst);
}

void put_meta(ByteWriter& w, const Metadata& m) {
  w.put_tag(kTagMeta);
  w.put(m.group);
  w.put(m.slots);
  w.put(m.chips);
  // Floats as their bit patterns: equal Programs give equal bytes.
  w.put(std::bit_cast<std::uint32_t>(m.rms_eps));
  w.put(std::bit_cast<std::uint64_t>(m.clock_hz));
  for (const std::string* s :
       {&m.model_name, &m.model_hash, &m.target_name, &m.target_hash, &m.options_hash, &m.kv}) {
    w.put_string(*s);
  }
}

void put_layout(ByteWriter& w, const std::vector<LayoutEntry>& layout) {
  w.put_tag(kTagLayout);
  w.put(static_cast<std::uint32_t>(layout.size()));
  for (const LayoutEntry& e : layout) {
    w.put_string(e.name);
    w.put(e.chip);
    w.put(e.pool);
    w.put(static_cast<std::uint8_t>(e.encoding));
    w.put(static_cast<std::uint8_t>(e.kind));
    w.put(std::uint8_t{0});
    w.put(e.offset);
    w.put(e.bytes);
    for (std::uint32_t v : {e.n0, e.n1, e.k, e.expert, e.tile_n, e.seg, e.group}) w.put(v);
    w.put(std::uint32_t{0});
  }
}

void put_tables(ByteWriter& w, const Program& p) {
  w.put_tag(kTagPools);
  w.put(static_cast<std::uint32_t>(p.pool_names.size()));
  for (const std::string& name : p.pool_names) w.put_string(name);
  put_layout(w, p.layout);
  w.put_tag(kTagOps);
  w.put(static_cast<std::uint32_t>(p.ops.size()));
  for (const OpRecord& op : p.ops) {
    w.put_string(op.name);
    w.put_string(op.kind);
    w.put(static_cast<std::uint32_t>(op.layer));
  }
  w.put_tag(kTagRegisters);
  w.put(static_cast<std::uint32_t>(p.registers.size()));
  for (const IndexRegister& r : p.registers) {
    w.put(r.chip);
    w.put(r.reg);
    w.put(std::uint16_t{0});
    w.put(r.stride_bytes);
    w.put(r.count);
    w.put_string(r.meaning);
  }
}

void put_variants(ByteWriter& w, const std::vector<Variant>& variants) {
  w.put_tag(kTagVariants);
  w.put(static_cast<std::uint32_t>(variants.size()));
  for (const Variant& v : variants) {
    w.put_string(v.name);
    w.put(static_cast<std::uint8_t>(v.kind));
    w.put(static_cast<std::uint8_t>(v.last_row_logits ? kVariantLastRowLogits : 0));
    w.put(std::uint16_t{0});
    w.put(v.context);
    w.put(v.rows);
    w.put(v.static_latency_cycles);
    w.put(v.lower_bound_cycles);
    w.put(v.initiation_interval_cycles);
    w.put(static_cast<std::uint32_t>(v.streams.size()));
    for (const std::vector<isa::Instruction>& stream : v.streams) {
      w.put(static_cast<std::uint32_t>(stream.size()));
      w.pad_to(kRecordAlignment);
      for (const isa::Instruction& in : stream) put_instruction(w, in);
    }
  }
}

void put_smoothing(ByteWriter& w, const Smoothing& s) {
  w.put_tag(kTagSmoothing);
  w.put_string(s.method);
  w.put(std::bit_cast<std::uint32_t>(s.alpha));
  w.put_string(s.calibration_hash);
  w.put(s.calibration_tokens);
  w.put(static_cast<std::uint32_t>(s.sites.size()));
  for (const SmoothingSite& site : s.sites) {
    w.put_string(site.name);
    w.put(static_cast<std::uint32_t>(site.log2_factors.size()));
    for (const std::vector<std::int8_t>& layer : site.log2_factors) {
      w.put(static_cast<std::uint32_t>(layer.size()));
      for (std::int8_t v : layer) w.put(static_cast<std::uint8_t>(v));
    }
  }
}

void put_rotation(ByteWriter& w, const Rotation& r) {
  w.put_tag(kTagRotation);
  w.put_string(r.method);
  w.put(r.seed);
}

std::array<std::uint8_t, kChecksumBytes> checksum(std::span<const std::uint8_t> payload) {
  Sha256 h;
  h.update(payload);
  return h.digest();
}

std::string hex_bytes(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

Status header_error(std::string_view source, std::size_t at, std::string_view field,
                    const std::string& what, StatusCode code = StatusCode::kDataLoss) {
  return Status(code,
                std::string(source) + " @" + hex(at) + ": " + std::string(field) + ": " + what);
}

// Everything the header promises, in the order of docs/program-format.md.
Status check_header(std::span<const std::uint8_t> bytes, std::string_view source,
                    bool compare_checksum) {
  if (bytes.size() < kHeaderBytes) {
    return header_error(source, 0, "header",
                        "truncated (expected " + std::to_string(kHeaderBytes) + " bytes, " +
                            std::to_string(bytes.size()) + " in the file)");
  }
  if (std::memcmp(bytes.data() + kMagicAt, kMagic, sizeof(kMagic)) != 0) {
    return header_error(source, kMagicAt, "magic",
                        hex_bytes(bytes.first(sizeof(kMagic))) +
                            " (expected 4c505550524f4700, \"LPUPROG\\0\"): not an lpu Program file",
                        StatusCode::kInvalidArgument);
  }
  const auto major = load_le<std::uint16_t>(bytes.data() + kMajorAt);
  const auto minor = load_le<std::uint16_t>(bytes.data() + kMinorAt);
  if (major != kFormatMajor || minor > kFormatMinor) {
    return header_error(source, major != kFormatMajor ? kMajorAt : kMinorAt, "version",
                        "format " + std::to_string(major) + "." + std::to_string(minor) +
                            " (expected " + std::to_string(kFormatMajor) + ".0 to " +
                            std::to_string(kFormatMajor) + "." + std::to_string(kFormatMinor) +
                            ": this reader reads format " + std::to_string(kFormatMajor) + "." +
                            std::to_string(kFormatMinor) + ")",
                        StatusCode::kUnimplemented);
  }
  const auto flags = load_le<std::uint32_t>(bytes.data() + kFlagsAt);
  if (flags != 0) {
    return header_error(source, kFlagsAt, "flags", hex(flags) + " (expected 0: reserved)");
  }
  const auto payload_bytes = load_le<std::uint64_t>(bytes.data() + kPayloadBytesAt);
  const std::uint64_t present = bytes.size() - kHeaderBytes;
  if (payload_bytes != present) {
    return header_error(source, kPayloadBytesAt, "payload_bytes",
                        std::to_string(payload_bytes) + " (expected " + std::to_string(present) +
                            ", the bytes after the header: truncated or padded file)");
  }
  if (compare_checksum) {
    const auto want = checksum(bytes.subspan(kHeaderBytes));
    if (std::memcmp(bytes.data() + kChecksumAt, want.data(), want.size()) != 0) {
      return header_error(source, kChecksumAt, "checksum",
                          hex_bytes(bytes.subspan(kChecksumAt, kChecksumBytes)) + " (expected " +
                              hex_bytes(want) + ", the SHA-256 of the payload)");
    }
  }
  return {};
}

}  // namespace

Result<Program> deserialize_unchecked(std::span<const std::uint8_t> bytes,
                                      std::string_view source) {
  LPU_TRY(check_header(bytes, source, /*compare_checksum=*/false), "");
  return parse_payload(bytes, source);
}

}  // namespace internal

std::vector<std::uint8_t> serialize(const Program& p) {
  using namespace internal;
  // The payload is built after a zeroed header so that record alignment,
  // stated as file offsets, holds while writing.
  std::vector<std::uint8_t> out(kHeaderBytes, 0);
  ByteWriter w(out);
  put_meta(w, p.meta);
  put_tables(w, p);
  put_variants(w, p.variants);
  put_smoothing(w, p.smoothing);
  put_rotation(w, p.rotation);
  std::memcpy(out.data() + kMagicAt, kMagic, sizeof(kMagic));
  store_le(out.data() + kMajorAt, kFormatMajor);
  store_le(out.data() + kMinorAt, kFormatMinor);
  store_le(out.data() + kFlagsAt, std::uint32_t{0});
  store_le(out.data() + kPayloadBytesAt, std::uint64_t{out.size() - kHeaderBytes});
  const auto sum = checksum(std::span<const std::uint8_t>(out).subspan(kHeaderBytes));
  std::memcpy(out.data() + kChecksumAt, sum.data(), sum.size());
  return out;
}

Result<Program> deserialize(std::span<const std::uint8_t> bytes, std::string_view source) {
  LPU_TRY(internal::check_header(bytes, source, /*compare_checksum=*/true), "");
  return internal::parse_payload(bytes, source);
}

std::string program_hash(const Program& p) { return sha256_hex(serialize(p)); }

namespace {

Status write_all(int fd, std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(StatusCode::kResourceExhausted, std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Status write_program(const Program& p, const std::string& path) {
  return write_program_bytes(compress_program(serialize(p)), path);
}

Status write_program_bytes(std::span<const std::uint8_t> bytes, const std::string& path) {
  // A temporary beside the target, renamed over it once complete: readers
  // see the old file or the new one, never half of one. The counter keeps
  // concurrent writers of one process apart.
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    return Status(StatusCode::kNotFound,
                  path + ": cannot create " + tmp + ": " + std::strerror(errno));
  }
  Status s = write_all(fd, bytes);
  if (s.ok() && ::fsync(fd) != 0) s = Status(StatusCode::kResourceExhausted, std::strerror(errno));
  if (::close(fd) != 0 && s.ok()) s = Status(StatusCode::kResourceExhausted, std::strerror(errno));
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status(StatusCode::kResourceExhausted, std::string("rename: ") + std::strerror(errno));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return std::move(s).with_context(path + ": writing " + std::to_string(bytes.size()) + " bytes");
  }
  return {};
}

Result<Program> read_program(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument(path + ": not a regular file");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return data_loss(path + ": read failed after " + std::to_string(done) +
                       " bytes: " + std::strerror(err));
    }
    if (n == 0) break;  // shrank while reading: the header check reports it
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  if (is_compressed_program(bytes)) {
    LPU_ASSIGN_OR_RETURN(std::vector<std::uint8_t> inner, uncompress_program(bytes, path));
    return deserialize(inner, path);
  }
  return deserialize(bytes, path);
}

}  // namespace lpu::program
