#pragma once
// What every backend's Device does alike: checks that a Program fits the
// device's target and the model, and copies regions in and out of SRAM
// images (model_shape.h gives what a backend needs of the model).

#include <span>
#include <vector>

#include "include/lpu/device.h"
#include "include/lpu/model.h"
#include "include/lpu/status.h"
#include "lib/program/program.h"
#include "lib/target/target.h"
#include "runtime/device/model_shape.h"
#include "runtime/device/sram_image.h"

namespace lpu::runtime {

/// The Program was compiled for this target and this model (errors name
/// both hashes).
Status check_program_fits(const program::Program& p, const target::Target& t, const Model& m);


Status write_region(std::vector<ChipImage>& img, const SramRegion& r, std::span<const std::uint8_t> bytes);
Status read_region(const std::vector<ChipImage>& img, const SramRegion& r, std::span<std::uint8_t> out);

}  // namespace lpu::runtime
