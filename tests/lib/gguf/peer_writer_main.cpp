// Writes GGUF files with this project's writer, each with a JSON sidecar
// describing what this project reads back, for tests/peer/check_gguf.py to
// check with the `gguf` Python package; or rewrites a file as F32 for
// tests/peer/compare_f32_rewrite.py.
//
//   lpu_gguf_peer_writer write OUT_DIR SOURCE_DIR
//   lpu_gguf_peer_writer rewrite-f32 SRC DST
#include <cstdio>
#include <fstream>
#include <string>

#include "include/lpu/synth.h"
#include "lib/core/rng.h"
#include "lib/gguf/file.h"
#include "lib/gguf/rewrite.h"
#include "lib/gguf/writer.h"
#include "tests/lib/gguf/gguf_json.h"

namespace lpu::gguf {
namespace {

std::vector<float> normals(std::uint64_t stream, std::size_t n, double scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(scale * rng::normal(42, stream, i));
  return v;
}

void set_all_metadata(Writer& w) {
  w.set_string("general.architecture", "lpu-peer-test");
  w.set_u8("t.u8", 200);
  w.set_i8("t.i8", -100);
  w.set_u16("t.u16", 60000);
  w.set_i16("t.i16", -30000);
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2000000000);
  w.set_u64("t.u64", 18000000000000000000ull);
  w.set_i64("t.i64", -9000000000000000000ll);
  w.set_f32("t.f32", 0.1f);
  w.set_f64("t.f64", -1e-300);
  w.set_bool("t.true", true);
  w.set_bool("t.false", false);
  w.set_string("t.unicode", "h\xC3\xA9llo \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\xA6\x99 \xE2\x96\x81");
  w.set_string("t.empty", "");
  w.set_string_array("t.strings", {"<s>", "", "\xE2\x96\x81the", "\xF0\x9F\xA6\x99"});
  const std::vector<std::int32_t> i32 = {-1, 0, 2147483647};
  w.set_i32_array("t.i32s", i32);
  const std::vector<std::uint32_t> u32 = {4294967295u, 7};
  w.set_u32_array("t.u32s", u32);
  const std::vector<std::int64_t> i64 = {-9000000000000000000ll, 5};
  w.set_i64_array("t.i64s", i64);
  const std::vector<float> f32 = {0.5f, -1e-38f, 3e38f};
  w.set_f32_array("t.f32s", f32);
  const std::vector<double> f64 = {1e-310, 2.0};
  w.set_f64_array("t.f64s", f64);
  w.set_i32_array("t.empty_array", {});
  Array nested;
  nested.elem_type = ValueType::kArray;
  for (int n = 1; n <= 2; ++n) {
    Array inner;
    inner.elem_type = ValueType::kInt16;
    for (int k = 0; k < n; ++k)
      inner.items.push_back(testing::make_value(ValueType::kInt16, std::int64_t{-k - 10 * n}));
    nested.items.push_back(testing::make_value(ValueType::kArray, std::move(inner)));
  }
  w.set("t.nested", testing::make_value(ValueType::kArray, std::move(nested)));
}

Status add_tensors(Writer& w, const std::string& source_dir) {
  LPU_TRY(w.add_tensor_f32("f32_4d", {3, 2, 2, 2}, TensorType::kF32, normals(1, 24, 1.0)), "");
  LPU_TRY(w.add_tensor_f32("f16", {64, 3}, TensorType::kF16, normals(2, 192, 3.0)), "");
  LPU_TRY(w.add_tensor_f32("bf16", {32, 2}, TensorType::kBF16, normals(3, 64, 100.0)), "");
  LPU_TRY(w.add_tensor_f32("q8_0", {64, 4}, TensorType::kQ8_0, normals(4, 256, 0.2)), "");
  LPU_TRY(w.add_tensor_f32("q8_0_3d", {32, 3, 2}, TensorType::kQ8_0, normals(5, 192, 2.0)), "");
  // Blocks of the types this project only reads, copied from the fixtures.
  for (const char* name : {"types.gguf", "kquants.gguf"}) {
    LPU_ASSIGN_OR_RETURN(const File f, File::open(source_dir + "/tests/data/gguf/" + name));
    for (const TensorInfo& t : f.tensors()) {
      if (t.type == TensorType::kF32 || t.type == TensorType::kF16 || t.type == TensorType::kBF16 ||
          t.type == TensorType::kQ8_0) {
        continue;
      }
      LPU_TRY(w.add_tensor("copied." + t.name, t.dims, t.type, {t.data, t.data + t.n_bytes}), "");
    }
  }
  return {};
}

// Writes PATH.json: what this project reads back from PATH.
Status describe(const std::string& path) {
  LPU_ASSIGN_OR_RETURN(const File f, File::open(path));
  LPU_ASSIGN_OR_RETURN(const nlohmann::json doc, testing::describe_file(f));
  std::ofstream out(path + ".json");
  out << doc.dump();
  if (!out) return resource_exhausted(path + ".json: write failed");
  return {};
}

Status write_with_sidecar(const Writer& w, const std::string& path) {
  LPU_TRY(w.write(path), "");
  return describe(path);
}

Status write_all(const std::string& out_dir, const std::string& source_dir) {
  {
    Writer w;
    set_all_metadata(w);
    LPU_TRY(add_tensors(w, source_dir), out_dir);
    LPU_TRY(write_with_sidecar(w, out_dir + "/writer_all_types.gguf"), "");
  }
  {
    Writer w;
    w.set_string("general.architecture", "lpu-peer-test");
    w.set_u32("general.alignment", 128);
    LPU_TRY(w.add_tensor_f32("a", {5}, TensorType::kF32, normals(6, 5, 1.0)), "");
    LPU_TRY(w.add_tensor_f32("b", {32, 1}, TensorType::kQ8_0, normals(7, 32, 1.0)), "");
    LPU_TRY(write_with_sidecar(w, out_dir + "/writer_align128.gguf"), "");
  }
  {
    Writer w;  // metadata only, no tensors
    w.set_string("general.architecture", "lpu-peer-test");
    LPU_TRY(write_with_sidecar(w, out_dir + "/writer_no_tensors.gguf"), "");
  }
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    for (const char* type : {"f32", "q8_0"}) {
      LPU_ASSIGN_OR_RETURN(SynthOptions o, synth_preset(preset));
      o.weight_type = type;
      const std::string path = out_dir + "/synth_" + preset + "_" + type + ".gguf";
      LPU_TRY(write_synthetic_model(o, path), "");
      LPU_TRY(describe(path), "");
    }
  }
  return {};
}

}  // namespace
}  // namespace lpu::gguf

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  lpu::Status s;
  if (mode == "write" && argc == 4) {
    s = lpu::gguf::write_all(argv[2], argv[3]);
  } else if (mode == "rewrite-f32" && argc == 4) {
    s = lpu::gguf::rewrite_as_f32(argv[2], argv[3]);
  } else {
    std::fprintf(stderr, "usage: %s write OUT_DIR SOURCE_DIR | rewrite-f32 SRC DST\n", argv[0]);
    return 2;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
