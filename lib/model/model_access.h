#pragma once
// Library-internal view of lpu::Model: the open GGUF file behind it.

#include <string>

#include "lib/core/access.h"
#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "lib/gguf/file.h"

namespace lpu {

struct Model::Impl {
  std::string path;
  gguf::File file;
  ModelConfig config;
};

namespace model {

/// The validated GGUF file of `m` (lives as long as `m`).
inline const gguf::File& model_file(const Model& m) { return internal::Access::impl(m).file; }

/// A Model over an already open file (e.g. one built in memory); reads and
/// validates its configuration. `path` is what Model::path() reports.
Result<Model> model_from_gguf(gguf::File file, std::string path);

}  // namespace model
}  // namespace lpu
