#pragma once
// The target JSON schema as data: the key names and, for each section, its
// scalar fields in canonical order. One table drives both the reader
// (target_json.cpp) and the writer (target_json_write.cpp), so the two
// cannot disagree. Internal to lib/target.

#include <cstdint>
#include <string>
#include <variant>

#include "lib/target/target.h"

namespace lpu::target::schema {

inline constexpr const char* kUnitNames[kUnitKinds] = {"matrix", "vector", "switch", "link"};
inline constexpr const char* kUseNames[] = {"activations", "kv", "weights", "instructions"};
inline constexpr const char* kUseList = "activations, kv, weights, instructions";

// One scalar field of a section: its key and the member it fills.
template <typename S>
struct Field {
  const char* key;
  std::variant<std::uint32_t S::*, std::uint64_t S::*, double S::*, std::string S::*> member;
};

inline const Field<Pool> kPoolFields[] = {
    {"name", &Pool::name},
    {"capacity_bytes", &Pool::capacity_bytes},
    {"banks", &Pool::banks},
    {"bank_read_bytes_per_cycle", &Pool::bank_read_bytes_per_cycle},
    {"bank_write_bytes_per_cycle", &Pool::bank_write_bytes_per_cycle},
};
inline const Field<MatrixUnit> kMatrixFields[] = {
    {"planes", &MatrixUnit::planes},
    {"tile_k", &MatrixUnit::tile_k},
    {"tile_n", &MatrixUnit::tile_n},
    {"weight_buffer_tiles", &MatrixUnit::weight_buffer_tiles},
    {"weight_load_bytes_per_cycle", &MatrixUnit::weight_load_bytes_per_cycle},
    {"macs_per_cycle", &MatrixUnit::macs_per_cycle},
    {"pipeline_latency", &MatrixUnit::pipeline_latency},
};
inline const Field<VectorUnit> kVectorFields[] = {
    {"lanes", &VectorUnit::lanes},
    {"alus_per_lane", &VectorUnit::alus_per_lane},
    {"pipeline_latency", &VectorUnit::pipeline_latency},
};
inline const Field<SwitchUnit> kSwitchFields[] = {
    {"bytes_per_cycle", &SwitchUnit::bytes_per_cycle},
    {"pipeline_latency", &SwitchUnit::pipeline_latency},
};
inline const Field<Links> kLinksFields[] = {
    {"count", &Links::count},
    {"bytes_per_cycle", &Links::bytes_per_cycle},
    {"hop_latency_cycles", &Links::hop_latency_cycles},
    {"hop_latency_sigma_cycles", &Links::hop_latency_sigma_cycles},
    {"resync_period_cycles", &Links::resync_period_cycles},
    {"resync_cycles", &Links::resync_cycles},
};
inline const Field<Topology> kTopologyFields[] = {
    {"chips_per_node", &Topology::chips_per_node},
    {"local_links", &Topology::local_links},
    {"global_links", &Topology::global_links},
    {"nodes_per_rack", &Topology::nodes_per_rack},
    {"max_racks", &Topology::max_racks},
    {"rack_network", &Topology::rack_network},
    {"hops_within_rack", &Topology::hops_within_rack},
    {"hops_between_racks", &Topology::hops_between_racks},
};
inline const Field<HostLink> kHostFields[] = {
    {"bytes_per_cycle", &HostLink::bytes_per_cycle},
    {"latency_cycles", &HostLink::latency_cycles},
};
inline const Field<Energy> kEnergyFields[] = {
    {"pj_per_int8_mac", &Energy::pj_per_int8_mac},
    {"pj_per_sram_byte", &Energy::pj_per_sram_byte},
    {"pj_per_vector_op", &Energy::pj_per_vector_op},
    {"pj_per_c2c_byte", &Energy::pj_per_c2c_byte},
    {"static_watts", &Energy::static_watts},
    {"derived", &Energy::derived},
};

}  // namespace lpu::target::schema
