// lpu inspect MODEL: metadata, tensors, types, sizes, and what would fail to
// load and why.
#include <cstdio>
#include <map>
#include <string>

#include "examples/lpu/command.h"
#include "include/lpu/model.h"
#include "include/lpu/tokenizer.h"
#include "lib/gguf/file.h"

namespace lpu::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool all_values = false;
};

void print_metadata(const gguf::File& file, bool all_values) {
  std::printf("metadata: %zu keys\n", file.metadata().size());
  for (const gguf::KeyValue& kv : file.metadata()) {
    std::printf("  %-44s %-8s %s\n", kv.key.c_str(), std::string(gguf::value_type_name(kv.value.type)).c_str(),
                kv.value.to_display_string(all_values ? SIZE_MAX : 8).c_str());
  }
}

void print_tensors(const gguf::File& file) {
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> by_type;  // type -> (count, bytes)
  std::uint64_t params = 0;
  std::printf("tensors: %zu\n", file.tensors().size());
  for (const gguf::TensorInfo& t : file.tensors()) {
    const std::string type(gguf::type_name(static_cast<std::uint32_t>(t.type)));
    char where[32] = "(unsupported)";
    if (t.supported) {
      std::snprintf(where, sizeof where, "0x%llx", static_cast<unsigned long long>(file.data_offset() + t.offset));
    }
    std::printf("  %-36s %-6s %-22s %12llu bytes @ %s\n", t.name.c_str(), type.c_str(), t.shape_string().c_str(),
                static_cast<unsigned long long>(t.n_bytes), where);
    auto& [count, bytes] = by_type[type];
    ++count;
    bytes += t.n_bytes;
    params += t.n_elements;
  }
  std::printf("summary: %llu parameters, %llu bytes of tensor data\n", static_cast<unsigned long long>(params),
              static_cast<unsigned long long>(file.file_size() - file.data_offset()));
  for (const auto& [type, cb] : by_type) {
    std::printf("  %-6s %5llu tensors %14llu bytes\n", type.c_str(), static_cast<unsigned long long>(cb.first),
                static_cast<unsigned long long>(cb.second));
  }
}

// Each loading stage on its own, so one failure does not hide the next.
void print_load_checks(const std::string& path, const gguf::File& file) {
  std::printf("load checks:\n");
  int unsupported = 0;
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (!t.supported) {
      ++unsupported;
      std::printf("  FAIL tensor '%s': type %s is not supported (supported: %s)\n", t.name.c_str(),
                  std::string(gguf::type_name(static_cast<std::uint32_t>(t.type))).c_str(),
                  std::string(gguf::supported_type_list()).c_str());
    }
  }
  if (unsupported == 0) std::printf("  ok   tensor types\n");
  Result<Tokenizer> tok = Tokenizer::from_gguf(path);
  if (tok.ok()) {
    std::printf("  ok   tokenizer (%s, pre %s, %zu tokens)\n", std::string(tok->model_name()).c_str(),
                std::string(tok->pre_tokenizer()).c_str(), tok->vocab_size());
  } else {
    std::printf("  FAIL tokenizer: %s\n", tok.status().message().c_str());
  }
  if (file.tensors().empty()) {
    std::printf("  --   model: vocabulary-only file (no tensors)\n");
    return;
  }
  Result<Model> model = Model::load(path);
  if (model.ok()) {
    const ModelConfig& c = model->config();
    std::printf("  ok   model (%s: %d layers, embd %d, heads %d/%d, ff %d, vocab %d, experts %d/%d)\n",
                c.architecture.c_str(), c.n_layer, c.n_embd, c.n_head, c.n_head_kv, c.n_ff, c.n_vocab,
                c.n_expert_used, c.n_expert);
  } else {
    std::printf("  FAIL model: %s\n", model.status().message().c_str());
  }
}

Status run_inspect(const InspectOptions& o) {
  gguf::OpenOptions open_options;
  open_options.allow_unsupported_types = true;
  LPU_ASSIGN_OR_RETURN(gguf::File file, gguf::File::open(o.model, open_options));
  std::printf("file: %s\nformat: GGUF v%u, %llu bytes, alignment %u, data at 0x%llx\n", file.path().c_str(),
              file.version(), static_cast<unsigned long long>(file.file_size()), file.alignment(),
              static_cast<unsigned long long>(file.data_offset()));
  print_metadata(file, o.all_values);
  print_tensors(file);
  print_load_checks(o.model, file);
  return {};
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto opts = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a GGUF file's metadata and tensors, and what would fail to load");
  cmd->add_option("model", opts->model, "GGUF file")->required();
  cmd->add_flag("--all", opts->all_values, "Print whole arrays instead of the first 8 items");
  cmd->callback([&action, opts] { action = [opts] { return run_inspect(*opts); }; });
}

}  // namespace lpu::cli
