// lpu::Model: an opened GGUF file with its validated configuration.
#include <memory>
#include <string>

#include "include/lpu/model.h"
#include "lib/model/config_internal.h"
#include "lib/model/model_access.h"
#include "lib/tokenizer/load.h"

namespace lpu {

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Result<Model> model::model_from_gguf(gguf::File file, std::string path) {
  LPU_ASSIGN_OR_RETURN(ModelConfig config, model_config_from_gguf(file));
  auto impl = std::make_unique<Model::Impl>(
      Model::Impl{std::move(path), std::move(file), std::move(config)});
  return internal::Access::wrap<Model>(std::move(impl));
}

Result<Model> Model::load(const std::string& path) {
  LPU_ASSIGN_OR_RETURN(gguf::File file, gguf::File::open(path));
  return model::model_from_gguf(std::move(file), path);
}

const ModelConfig& Model::config() const { return impl_->config; }

const std::string& Model::path() const { return impl_->path; }

Result<Tokenizer> Model::tokenizer() const { return tokenizer::load_tokenizer(impl_->file); }

std::string Model::chat_template() const {
  const gguf::Value* v = impl_->file.find("tokenizer.chat_template");
  if (v == nullptr || !v->is_string()) return {};
  return std::get<std::string>(v->data);
}

}  // namespace lpu
