#pragma once
// A Program's SRAM layout as one self-contained HTML page (inline CSS and
// SVG; no scripts, fonts or other files): for each chip and pool a bar
// scaled to the pool's capacity, one rectangle per layout entry coloured by
// what it holds (weights, KV, activations, instructions), bank boundaries
// as thin lines and the pool's fill. Hovering a rectangle shows the entry's
// name, offset, size, encoding and kind (an SVG <title>). Entries narrower
// than a pixel are merged into a hatched "N small entries" rectangle whose
// title lists the first few, so that every byte placed stays visible.
//
// The first 16 chips are drawn in full; a table after them gives every
// chip's bytes per pool by kind and how full each pool is, so that a
// Program of hundreds of chips still gives a page a browser opens quickly.

#include <cstddef>
#include <string>

#include "lib/program/program.h"
#include "lib/target/target.h"

namespace lpu::report {

/// Chips drawn in full; the rest appear only in the summary table.
inline constexpr std::size_t kSramMapDetailedChips = 16;

/// The SRAM map page of `p`. Pool capacities and banks come from the pool
/// of `t` with the same name; a pool `t` lacks is drawn to its highest
/// entry end, its capacity shown as unknown. All text is HTML-escaped.
std::string sram_map_html(const program::Program& p, const target::Target& t);

}  // namespace lpu::report
