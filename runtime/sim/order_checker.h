#pragma once
// The program-order check: visiting a step's instructions in program order
// (seq), each read must find that the last earlier write to each of its
// bytes has landed by the read's first cycle (RAW); each write must land
// no earlier than every earlier read of its bytes has ended (WAR) and than
// every earlier write (WAW). Bytes are tracked exactly, per (chip, pool),
// as a map of disjoint ranges; weight-buffer slots and index registers are
// tracked the same way under keys of their own. A timed execution that
// passes reads and writes exactly what executing in program order would.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace lpu::sim {

/// One access's timing and who made it (for messages).
struct AccessTime {
  std::uint64_t first = 0;  ///< read: first read cycle; write: landing cycle
  std::uint64_t end = 0;    ///< read: first cycle after the read window
  std::uint32_t seq = 0;
};

class OrderChecker {
 public:
  /// Tracks every chip's pools, or only chip `only` when given (the other
  /// chips' accesses must not be passed).
  OrderChecker(std::uint32_t chips, std::uint32_t pools, std::uint32_t only = UINT32_MAX);

  /// "" when legal, else "RAW ..."/"WAR ..."/"WAW ..." naming the range
  /// and the earlier instruction (by seq) it conflicts with. An
  /// instruction's reads are checked, then its writes, then its reads
  /// recorded (commit_read), so an in-place instruction does not conflict
  /// with itself.
  std::string read(std::uint32_t chip, std::uint32_t pool, std::uint64_t lo, std::uint64_t hi,
                   const AccessTime& t);
  void commit_read(std::uint32_t chip, std::uint32_t pool, std::uint64_t lo, std::uint64_t hi,
                   const AccessTime& t);
  std::string write(std::uint32_t chip, std::uint32_t pool, std::uint64_t lo, std::uint64_t hi,
                    const AccessTime& t);
  /// The same for a non-memory resource (a plane's buffer slot, a register).
  std::string read_key(std::uint64_t key, const AccessTime& t, const char* what);
  void commit_read_key(std::uint64_t key, const AccessTime& t);
  std::string write_key(std::uint64_t key, const AccessTime& t, const char* what);

 private:
  struct Cell {
    std::uint64_t hi = 0;
    std::uint64_t land = 0;      // last write's landing
    std::uint32_t w_seq = 0;
    bool written = false;
    std::uint64_t read_end = 0;  // latest end of a read so far
    std::uint32_t r_seq = 0;
  };
  using Cells = std::map<std::uint64_t, Cell>;
  // Splits so that [lo, hi) is covered by whole cells (gaps filled).
  static void cover(Cells& cells, std::uint64_t lo, std::uint64_t hi);
  static std::string check_read(const Cell& c, const AccessTime& t, const std::string& range);
  static std::string check_write(const Cell& c, const AccessTime& t, const std::string& range);

  std::uint32_t pools_;
  std::uint32_t only_;
  std::vector<Cells> mem_;  // (chip or 0) * pools + pool
  Cells& cells(std::uint32_t chip, std::uint32_t pool) {
    return mem_[std::size_t{only_ == UINT32_MAX ? chip : 0} * pools_ + pool];
  }
  std::unordered_map<std::uint64_t, Cell> keys_;
};

}  // namespace lpu::sim
