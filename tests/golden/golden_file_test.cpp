// The golden files themselves: each reads back and is self-consistent, and
// the reader rejects damaged copies with an error naming the problem.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tests/golden/golden_file.h"
#include "tests/testing/test_paths.h"

namespace lpu::testing {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> goldens() {
  return list_golden_files(source_dir() / "tests" / "data" / "golden");
}

std::vector<char> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path write_copy(const std::vector<char>& bytes, const std::string& name) {
  const fs::path p = temp_dir() / name;
  std::ofstream(p, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p;
}

TEST(GoldenFile, EveryGoldenIsSelfConsistent) {
  const std::vector<fs::path> files = goldens();
  ASSERT_FALSE(files.empty()) << "no *.lpugold files in tests/data/golden";
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.string());
    Result<GoldenFile> r = read_golden_file(path);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const GoldenFile& g = *r;
    EXPECT_EQ(g.n_generated, 64);
    EXPECT_EQ(g.llama_cpp_version, "0.3.35");
    const auto k = static_cast<std::size_t>(g.top_k);
    const auto v = static_cast<std::size_t>(g.n_vocab);
    for (std::size_t p = 0; p < g.tokens.size(); ++p) {
      const auto ids = std::span(g.top_ids).subspan(p * k, k);
      const auto vals = std::span(g.top_logits).subspan(p * k, k);
      EXPECT_EQ(std::set<std::int32_t>(ids.begin(), ids.end()).size(), k) << "position " << p;
      EXPECT_TRUE(std::is_sorted(vals.rbegin(), vals.rend())) << "position " << p;
      EXPECT_EQ(vals[0], g.row_max[p]) << "position " << p;
      EXPECT_LT(g.row_min[p], g.row_max[p]) << "position " << p;
    }
    // Full rows agree bit for bit with the top-k and range of their position.
    for (std::size_t row_index = 0; row_index < g.full_row_positions.size(); ++row_index) {
      const auto p = static_cast<std::size_t>(g.full_row_positions[row_index]);
      const auto row = std::span(g.full_rows).subspan(row_index * v, v);
      EXPECT_EQ(*std::max_element(row.begin(), row.end()), g.row_max[p]);
      EXPECT_EQ(*std::min_element(row.begin(), row.end()), g.row_min[p]);
      for (std::size_t i = 0; i < k; ++i) {
        EXPECT_EQ(row[static_cast<std::size_t>(g.top_ids[p * k + i])], g.top_logits[p * k + i]);
      }
    }
  }
}

TEST(GoldenFile, RejectsDamagedCopies) {
  const std::vector<fs::path> files = goldens();
  ASSERT_FALSE(files.empty());
  const std::vector<char> bytes = read_all(files.front());
  ASSERT_GT(bytes.size(), 64u);

  std::vector<char> bad_magic = bytes;
  bad_magic[0] = 'X';
  std::vector<char> truncated(bytes.begin(), bytes.end() - 4);
  std::vector<char> header_only(bytes.begin(), bytes.begin() + 20);
  std::vector<char> huge_header = bytes;
  huge_header[11] = '\x7f';

  for (const auto& [name, data] :
       {std::pair{"bad_magic", bad_magic}, std::pair{"truncated", truncated},
        std::pair{"header_only", header_only}, std::pair{"huge_header", huge_header}}) {
    const fs::path copy = write_copy(data, std::string(name) + ".lpugold");
    Result<GoldenFile> r = read_golden_file(copy);
    fs::remove(copy);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << name << ": " << r.status().to_string();
  }
  EXPECT_EQ(read_golden_file(temp_dir() / "absent.lpugold").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lpu::testing
