#pragma once
// ProgramBuilder: small, valid Programs built by hand, so that each test of
// the format, the validator or a backend can break exactly one thing.
//
//   program::Program p = ProgramBuilder().build();
//   p.variants[0].streams[1][2].op_id = 99;  // one fault
//   EXPECT_FALSE(program::validate(p, ProgramBuilder::capacities(), "t").ok());
//
// The default Program: 2 chips; pools "act", "kv" (64 KiB each) and
// "weights" (1 MiB); a tiled weight matrix split by columns over the chips,
// norm weights, an embedding table, activations and a KV cache; one index
// register per chip ("slot 0 position", r1); ops embed, attn_norm, attn_q,
// kv_append, gather; and one decode variant whose chip 0 embeds, normalises,
// multiplies, appends to the cache and sends to chip 1, which receives.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lib/isa/isa.h"
#include "lib/program/program.h"

namespace lpu::testing {

class ProgramBuilder {
 public:
  // Pool indices of the default Program.
  static constexpr std::uint8_t kAct = 0;
  static constexpr std::uint8_t kKv = 1;
  static constexpr std::uint8_t kWeights = 2;

  ProgramBuilder();

  /// Adds a prefill variant "prefill.ctx16" with the same streams.
  ProgramBuilder& with_prefill();
  /// Appends `n` vector-unit adds to every stream of every variant, after
  /// the existing instructions (a larger file for truncation tests).
  ProgramBuilder& with_filler(std::uint32_t n);

  /// The Program, its instructions numbered in program order chip by chip
  /// in stream order (chip 0's stream, then chip 1's, ...).
  program::Program build() const;

  /// The default pools' capacities, indexed like pool_names.
  static std::vector<std::uint64_t> capacities();

  /// An instruction of `op` on the unit it runs on.
  static isa::Instruction instr(isa::Opcode op, std::uint64_t issue, std::uint32_t duration,
                                std::uint32_t op_id);
  /// (pool, offset, bytes), indexed by `reg` when non-zero.
  static isa::Operand operand(std::uint8_t pool, std::uint64_t offset, std::uint32_t bytes,
                              std::uint16_t reg = 0);

 private:
  void add_layout();
  void add_streams();

  program::Program p_;
};

/// Rewrites the header's payload size and checksum to match the bytes
/// after it, so a crafted corruption reaches the checks past the header.
void reseal_program(std::vector<std::uint8_t>& bytes);

/// Offset of the first occurrence of `needle` in `hay` at or after `from`;
/// fails the calling test (and returns SIZE_MAX) when absent.
std::size_t find_bytes(std::span<const std::uint8_t> hay, std::span<const std::uint8_t> needle,
                       std::size_t from = 0);
std::size_t find_text(std::span<const std::uint8_t> hay, std::string_view text,
                      std::size_t from = 0);

/// Writes a little-endian value into `bytes` at `at`.
void poke_u8(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint8_t v);
void poke_u16(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint16_t v);
void poke_u32(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint32_t v);
void poke_u64(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint64_t v);

}  // namespace lpu::testing
