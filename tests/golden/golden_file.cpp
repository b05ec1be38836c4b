#include "tests/golden/golden_file.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <span>

namespace lpu::testing {
namespace {

static_assert(std::endian::native == std::endian::little,
              "golden files are little-endian and read by memcpy");

constexpr char kMagic[8] = {'L', 'P', 'U', 'G', 'O', 'L', 'D', '1'};
constexpr std::size_t kPreamble = sizeof(kMagic) + 4;

using nlohmann::json;

Result<std::vector<std::uint8_t>> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path.string() + ": cannot open golden file");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  return bytes;
}

// Copies array `name` out of the payload after checking its dtype, shape and
// bounds. `T` is std::int32_t for "i32" and float for "f32".
template <typename T>
Status read_array(const json& table, const std::string& name,
                  const std::vector<std::int64_t>& shape, std::span<const std::uint8_t> payload,
                  std::vector<T>& out) {
  if (!table.contains(name)) return data_loss("array '" + name + "' is missing");
  const json& spec = table.at(name);
  const std::string want_dtype = std::is_same_v<T, float> ? "f32" : "i32";
  if (spec.at("dtype").get<std::string>() != want_dtype) {
    return data_loss("array '" + name + "': dtype " + spec.at("dtype").dump() + ", expected " +
                     want_dtype);
  }
  const auto got_shape = spec.at("shape").get<std::vector<std::int64_t>>();
  if (got_shape != shape) {
    return data_loss("array '" + name + "': shape " + spec.at("shape").dump() +
                     " does not match the header");
  }
  std::uint64_t count = 1;
  for (std::int64_t d : shape) count *= static_cast<std::uint64_t>(d);
  const auto offset = spec.at("offset").get<std::uint64_t>();
  const std::uint64_t n_bytes = count * sizeof(T);
  if (offset > payload.size() || n_bytes > payload.size() - offset) {
    return data_loss("array '" + name + "': bytes [" + std::to_string(offset) + ", " +
                     std::to_string(offset + n_bytes) + ") run past the payload (" +
                     std::to_string(payload.size()) + " bytes)");
  }
  out.resize(count);
  if (count != 0) std::memcpy(out.data(), payload.data() + offset, n_bytes);
  return {};
}

Status parse_origin(const std::string& origin, GoldenModel& model) {
  const std::size_t colon = origin.find(':');
  if (colon == std::string::npos)
    return data_loss("model.origin '" + origin + "' is not KIND:NAME");
  model.origin_kind = origin.substr(0, colon);
  model.origin_name = origin.substr(colon + 1);
  if (model.origin_kind != "shared" && model.origin_kind != "cache" &&
      model.origin_kind != "synth") {
    return data_loss("model.origin '" + origin + "': kind must be shared, cache or synth");
  }
  return {};
}

Status parse_header(const json& h, GoldenFile& g) {
  if (h.value("format", "") != "lpu-golden-1") return data_loss("format is not lpu-golden-1");
  g.name = h.at("name").get<std::string>();
  g.command = h.at("command").get<std::string>();
  g.llama_cpp_version = h.at("generator").at("versions").value("llama_cpp_python", "");
  const json& m = h.at("model");
  LPU_TRY(parse_origin(m.at("origin").get<std::string>(), g.model), "");
  g.model.file = m.at("file").get<std::string>();
  g.model.sha256 = m.at("sha256").get<std::string>();
  g.model.source_file = m.value("source_file", "");
  g.model.source_sha256 = m.value("source_sha256", "");
  g.n_prompt = h.at("n_prompt").get<int>();
  g.n_generated = h.at("n_generated").get<int>();
  g.n_vocab = h.at("n_vocab").get<int>();
  g.top_k = h.at("top_k").get<int>();
  g.tokens = h.at("tokens").get<std::vector<TokenId>>();
  g.full_row_positions = h.at("full_row_positions").get<std::vector<int>>();
  g.top1_margins = h.at("greedy").at("top1_margins").get<std::vector<float>>();
  if (g.n_prompt < 1 || g.n_generated < 0 || g.n_vocab < 1 || g.top_k < 1 || g.top_k > g.n_vocab ||
      g.n_positions() != g.n_prompt + g.n_generated ||
      h.at("n_positions").get<int>() != g.n_positions()) {
    return data_loss("inconsistent sizes (n_prompt, n_generated, n_positions, n_vocab, top_k)");
  }
  for (TokenId t : g.tokens) {
    if (t < 0 || t >= g.n_vocab)
      return data_loss("token id " + std::to_string(t) + " is outside the vocabulary");
  }
  for (int p : g.full_row_positions) {
    if (p < 0 || p >= g.n_positions())
      return data_loss("full row position " + std::to_string(p) + " out of range");
  }
  return {};
}

Status parse_arrays(const json& table, std::span<const std::uint8_t> payload, GoldenFile& g) {
  const std::int64_t n = g.n_positions();
  const std::int64_t k = g.top_k;
  LPU_TRY(read_array(table, "top_ids", {n, k}, payload, g.top_ids), "");
  LPU_TRY(read_array(table, "top_logits", {n, k}, payload, g.top_logits), "");
  LPU_TRY(read_array(table, "row_max", {n}, payload, g.row_max), "");
  LPU_TRY(read_array(table, "row_min", {n}, payload, g.row_min), "");
  const auto n_full = static_cast<std::int64_t>(g.full_row_positions.size());
  LPU_TRY(read_array(table, "full_rows", {n_full, g.n_vocab}, payload, g.full_rows), "");
  for (std::int32_t id : g.top_ids) {
    if (id < 0 || id >= g.n_vocab)
      return data_loss("top_ids holds " + std::to_string(id) + ", outside the vocabulary");
  }
  return {};
}

}  // namespace

Result<GoldenFile> read_golden_file(const std::filesystem::path& path) {
  LPU_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_bytes(path));
  const std::string where = path.string() + ": ";
  if (bytes.size() < kPreamble || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return data_loss(where + "not a golden file (expected magic LPUGOLD1)");
  }
  std::uint32_t header_len = 0;
  std::memcpy(&header_len, bytes.data() + sizeof(kMagic), 4);
  if (header_len > bytes.size() - kPreamble)
    return data_loss(where + "header runs past the end of the file");
  const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + kPreamble);
  GoldenFile g;
  try {
    const json h = json::parse(header_begin, header_begin + header_len);
    LPU_TRY(parse_header(h, g), where + "header");
    const std::span<const std::uint8_t> payload(bytes.data() + kPreamble + header_len,
                                                bytes.size() - kPreamble - header_len);
    LPU_TRY(parse_arrays(h.at("arrays"), payload, g), where + "arrays");
  } catch (const json::exception& e) {
    return data_loss(where + "malformed header: " + e.what());
  }
  return g;
}

std::vector<std::filesystem::path> list_golden_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".lpugold")
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace lpu::testing
