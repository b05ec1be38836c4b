#include <cstdio>
#include <string>

#include "examples/lpu/command.h"

namespace lpu::cli {

std::string read_stdin() {
  std::string out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) out.append(buf, n);
  return out;
}

}  // namespace lpu::cli
