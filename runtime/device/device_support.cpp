#include "runtime/device/device_support.h"

#include <cstring>

#include "lib/model/model_access.h"
#include "lib/model/model_hash.h"

namespace lpu::runtime {

Status check_program_fits(const program::Program& p, const target::Target& t, const Model& m) {
  const std::string th = target::target_hash(t);
  if (th != p.meta.target_hash) {
    return failed_precondition("the Program was compiled for target '" + p.meta.target_name + "' (hash " +
                               p.meta.target_hash + "); this device is '" + t.name + "' (hash " + th + ")");
  }
  const std::string mh = model::file_hash(model::model_file(m), m.config());
  if (mh != p.meta.model_hash) {
    return failed_precondition("the Program was compiled for model '" + p.meta.model_name + "' (hash " +
                               p.meta.model_hash + "); " + m.path() + " has hash " + mh);
  }
  return {};
}

namespace {

std::string where(const SramRegion& r) {
  return "chip " + std::to_string(r.chip) + " pool " + std::to_string(r.pool) + " bytes [" +
         std::to_string(r.offset) + ", +" + std::to_string(r.bytes) + ")";
}

}  // namespace

Status write_region(std::vector<ChipImage>& img, const SramRegion& r, std::span<const std::uint8_t> bytes) {
  if (bytes.size() > r.bytes) return invalid_argument(where(r) + ": " + std::to_string(bytes.size()) + " bytes do not fit");
  std::uint8_t* at = r.chip < img.size() && r.pool < img[r.chip].pools.size()
                         ? img[r.chip].pools[r.pool].at(r.offset, bytes.size()) : nullptr;
  if (at == nullptr) return out_of_range(where(r) + ": not laid out by the loaded Program");
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
  return {};
}

Status read_region(const std::vector<ChipImage>& img, const SramRegion& r, std::span<std::uint8_t> out) {
  if (out.size() > r.bytes) return invalid_argument(where(r) + ": asked for " + std::to_string(out.size()) + " bytes");
  const std::uint8_t* at = r.chip < img.size() && r.pool < img[r.chip].pools.size()
                               ? img[r.chip].pools[r.pool].at(r.offset, out.size()) : nullptr;
  if (at == nullptr) return out_of_range(where(r) + ": not laid out by the loaded Program");
  if (!out.empty()) std::memcpy(out.data(), at, out.size());
  return {};
}

}  // namespace lpu::runtime
