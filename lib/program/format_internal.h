#pragma once
// Internals of the Program binary format shared by format.cpp, its parser,
// the tests and the fuzzer: the layout constants of docs/program-format.md
// and an entry point that skips the checksum comparison. Not installed;
// nothing outside lib/program, tests/ and tests/fuzz includes this.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "include/lpu/status.h"
#include "lib/program/program.h"

namespace lpu::program::internal {

// --- header (file offsets) ---
inline constexpr char kMagic[8] = {'L', 'P', 'U', 'P', 'R', 'O', 'G', '\0'};
inline constexpr std::size_t kMagicAt = 0;
inline constexpr std::size_t kMajorAt = 8;
inline constexpr std::size_t kMinorAt = 10;
inline constexpr std::size_t kFlagsAt = 12;
inline constexpr std::size_t kPayloadBytesAt = 16;
inline constexpr std::size_t kChecksumAt = 24;
inline constexpr std::size_t kChecksumBytes = 32;
inline constexpr std::size_t kHeaderBytes = 56;

// --- payload ---
/// Longest string the format carries (names, hashes, meanings).
inline constexpr std::uint32_t kMaxStringBytes = 65535;
/// Instruction records start at a file offset that is a multiple of this.
inline constexpr std::size_t kRecordAlignment = 8;
static_assert(kHeaderBytes % kRecordAlignment == 0);

// Section tags, in file order.
inline constexpr char kTagMeta[5] = "META";
inline constexpr char kTagPools[5] = "POOL";
inline constexpr char kTagLayout[5] = "LAYT";
inline constexpr char kTagOps[5] = "OPS_";
inline constexpr char kTagRegisters[5] = "REGS";
inline constexpr char kTagVariants[5] = "VARS";
inline constexpr char kTagSmoothing[5] = "SMTH";  // format 2.2
inline constexpr char kTagRotation[5] = "ROTN";   // format 2.2

// Bits of a variant's flags byte (format 2.1; reserved and 0 in 2.0).
inline constexpr std::uint8_t kVariantLastRowLogits = 1;

// Fixed-size parts of each record (after its strings, where noted), the
// smallest a record can be, used to bound counts before allocating.
inline constexpr std::uint64_t kLayoutFixedBytes = 56;  // after the name
inline constexpr std::uint64_t kMinLayoutBytes = 4 + kLayoutFixedBytes;
inline constexpr std::uint64_t kMinOpBytes = 4 + 4 + 4;
inline constexpr std::uint64_t kRegisterFixedBytes = 20;  // before the meaning
inline constexpr std::uint64_t kMinRegisterBytes = kRegisterFixedBytes + 4;
inline constexpr std::uint64_t kVariantFixedBytes = 40;  // after the name
inline constexpr std::uint64_t kMinVariantBytes = 4 + kVariantFixedBytes;
inline constexpr std::uint64_t kMinStreamBytes = 4;

// Byte offsets of the fields inside an instruction record: the order,
// widths and offsets of isa::Instruction, written field by field in little
// endian (the asserts keep the two in step: a change to the struct is a
// format change, and needs a new major version).
inline constexpr std::size_t kInstructionBytes = 120;
inline constexpr std::size_t kInOp = 0;
inline constexpr std::size_t kInUnit = 1;
inline constexpr std::size_t kInUnitIndex = 2;
inline constexpr std::size_t kInFlags = 3;
inline constexpr std::size_t kInOpId = 4;
inline constexpr std::size_t kInIssue = 8;
inline constexpr std::size_t kInDuration = 16;
inline constexpr std::size_t kInSeq = 20;
inline constexpr std::size_t kInParams = 24;  // p[0..7), u32 each
inline constexpr std::size_t kParamCount = 7;
inline constexpr std::size_t kInReserved = 52;
inline constexpr std::size_t kInOperands = 56;  // src0, src1, src2, dst
inline constexpr std::size_t kOperandBytes = 16;
inline constexpr std::size_t kOpPool = 0;
inline constexpr std::size_t kOpReserved = 1;
inline constexpr std::size_t kOpIndexReg = 2;
inline constexpr std::size_t kOpBytes = 4;
inline constexpr std::size_t kOpOffset = 8;
static_assert(sizeof(isa::Instruction) == kInstructionBytes);
static_assert(offsetof(isa::Instruction, op_id) == kInOpId);
static_assert(offsetof(isa::Instruction, issue_cycle) == kInIssue);
static_assert(offsetof(isa::Instruction, duration) == kInDuration);
static_assert(offsetof(isa::Instruction, seq) == kInSeq);
static_assert(offsetof(isa::Instruction, p) == kInParams);
static_assert(offsetof(isa::Instruction, reserved) == kInReserved);
static_assert(sizeof(isa::Instruction::p) == 4 * kParamCount);
static_assert(offsetof(isa::Instruction, src) == kInOperands);
static_assert(offsetof(isa::Instruction, dst) == kInOperands + 3 * kOperandBytes);
static_assert(kInOperands + 4 * kOperandBytes == kInstructionBytes);
static_assert(sizeof(isa::Operand) == kOperandBytes);
static_assert(offsetof(isa::Operand, reserved) == kOpReserved);
static_assert(offsetof(isa::Operand, index_reg) == kOpIndexReg);
static_assert(offsetof(isa::Operand, bytes) == kOpBytes);
static_assert(offsetof(isa::Operand, offset) == kOpOffset);

/// Flag bits an instruction may set; the others are reserved.
inline constexpr std::uint8_t kKnownFlags =
    isa::kGroupBegin | isa::kGroupEnd | isa::kAccInit | isa::kStore;

/// Parses the payload at [kHeaderBytes, bytes.size()) of a file whose
/// header has been checked.
Result<Program> parse_payload(std::span<const std::uint8_t> bytes, std::string_view source);

/// deserialize() without the checksum comparison (every other check
/// stays). For the fuzzer only, which could otherwise never get past the
/// checksum; loaders call deserialize().
Result<Program> deserialize_unchecked(std::span<const std::uint8_t> bytes, std::string_view source);

}  // namespace lpu::program::internal
