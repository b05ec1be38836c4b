#pragma once
// A model's identity as Programs record it: SHA-256 (hex) of its
// configuration and, for a file, its tensor list (names, types, shapes).
// Two files with the same hash lay out identically in SRAM, so a Program
// compiled for one loads the other's weights at the same places.

#include <string>

#include "include/lpu/model.h"
#include "lib/gguf/file.h"

namespace lpu::model {

/// The hash of a configuration alone (config-only shapes).
std::string config_hash(const ModelConfig& config);
/// The hash of a model file: its configuration and tensor list.
std::string file_hash(const gguf::File& file, const ModelConfig& config);
/// The hash of every tensor's bytes, in file order: what calibrating the
/// weight transforms depends on beyond file_hash (two fine-tunes of one
/// model share their file_hash).
std::string weights_hash(const gguf::File& file);

}  // namespace lpu::model
