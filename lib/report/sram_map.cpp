// The SRAM map page (sram_map.h): a header, a legend, one SVG bar per
// (chip, pool) for the first chips, then a summary table of every chip.
#include "lib/report/sram_map.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string_view>
#include <vector>

#include "lib/report/text.h"

namespace lpu::report {
namespace {

using program::DataKind;
using program::LayoutEntry;

constexpr int kKinds = static_cast<int>(DataKind::kDataKindCount);
// Colours by DataKind (Tableau 10: tells the four apart, also in greyscale
// by lightness), then one for a kind out of range.
constexpr std::array<const char*, kKinds + 1> kColour = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1",
                                                         "#9c9c9c"};
constexpr const char* kFreeColour = "#ececec";

// Bar geometry in CSS pixels. Entries narrower than kMinPx are "small"; a
// run of small entries is merged while it spans under kMergePx, so a bar
// has at most a few hundred rectangles however many entries it holds.
constexpr double kBarWidth = 1100;
constexpr double kBarHeight = 24;
constexpr double kMinPx = 1.0;
constexpr double kMergePx = 4.0;
constexpr std::size_t kListedSmall = 8;

// printf into a std::string (numbers only: text goes through append_html).
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(buf) - 1));
}

int kind_index(DataKind k) { return std::min(static_cast<int>(k), kKinds); }

std::string kind_text(DataKind k) {
  return kind_index(k) < kKinds ? std::string(program::data_kind_name(k))
                                : "kind#" + std::to_string(static_cast<unsigned>(k));
}

std::string encoding_text(program::Encoding e) {
  const auto raw = static_cast<unsigned>(e);
  return raw < static_cast<unsigned>(program::Encoding::kEncodingCount)
             ? std::string(program::encoding_name(e))
             : "encoding#" + std::to_string(raw);
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "?";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

// A pool as drawn: its capacity and banks from the target, or from the
// entries when the target has no such pool.
struct PoolInfo {
  std::string name;
  std::uint64_t capacity = 0;  ///< the target's; 0 if unknown
  std::uint32_t banks = 0;     ///< 0 if unknown
};

struct Map {
  std::size_t chips = 0;
  std::vector<PoolInfo> pools;
  /// Entry indices of each drawn (chip, pool), chip-major, sorted by offset.
  std::vector<std::vector<std::size_t>> drawn;
  /// Bytes and entry counts per (chip, pool) by kind (kKinds + 1 columns).
  std::vector<std::array<std::uint64_t, kKinds + 1>> bytes;
  std::vector<std::uint64_t> entries;
  std::vector<std::uint64_t> max_end;

  std::size_t at(std::size_t chip, std::size_t pool) const { return chip * pools.size() + pool; }
  std::uint64_t used(std::size_t cell) const {
    std::uint64_t s = 0;
    for (std::uint64_t b : bytes[cell]) s += b;
    return s;
  }
};

std::vector<PoolInfo> pool_infos(const program::Program& p, const target::Target& t) {
  std::size_t n = p.pool_names.size();
  for (const LayoutEntry& e : p.layout) n = std::max<std::size_t>(n, e.pool + 1u);
  std::vector<PoolInfo> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i].name = i < p.pool_names.size() ? p.pool_names[i] : "pool#" + std::to_string(i);
    // By name only: a pool of another target at the same index would draw
    // the entries against the wrong capacity.
    if (const int ti = t.pool_index(out[i].name); ti >= 0) {
      out[i].capacity = t.pools[static_cast<std::size_t>(ti)].capacity_bytes;
      out[i].banks = t.pools[static_cast<std::size_t>(ti)].banks;
    }
  }
  return out;
}

Map build_map(const program::Program& p, const target::Target& t) {
  Map m;
  m.pools = pool_infos(p, t);
  m.chips = p.meta.chips;
  for (const LayoutEntry& e : p.layout) m.chips = std::max<std::size_t>(m.chips, e.chip + 1u);
  const std::size_t cells = m.chips * m.pools.size();
  m.bytes.assign(cells, {});
  m.entries.assign(cells, 0);
  m.max_end.assign(cells, 0);
  const std::size_t detailed = std::min(m.chips, kSramMapDetailedChips);
  m.drawn.resize(detailed * m.pools.size());
  for (std::size_t i = 0; i < p.layout.size(); ++i) {
    const LayoutEntry& e = p.layout[i];
    const std::size_t cell = m.at(e.chip, e.pool);
    m.bytes[cell][static_cast<std::size_t>(kind_index(e.kind))] += e.bytes;
    ++m.entries[cell];
    m.max_end[cell] = std::max(m.max_end[cell], e.offset + e.bytes);
    if (e.chip < detailed) m.drawn[cell].push_back(i);
  }
  for (auto& list : m.drawn) {
    std::stable_sort(list.begin(), list.end(), [&p](std::size_t a, std::size_t b) {
      return p.layout[a].offset < p.layout[b].offset;
    });
  }
  return m;
}

// Draws entries onto one bar, merging runs of small ones.
class BarPainter {
 public:
  BarPainter(std::string& out, const program::Program& p, double bytes_per_px)
      : out_(out), p_(p), scale_(1.0 / bytes_per_px) {}

  void add(std::size_t index) {
    const LayoutEntry& e = p_.layout[index];
    const double w = static_cast<double>(e.bytes) * scale_;
    if (w >= kMinPx) {
      flush();
      entry(e, px(e.offset), w);
      return;
    }
    if (!run_.empty() && px(e.offset + e.bytes) - px(run_start_) > kMergePx) flush();
    if (run_.empty()) run_start_ = e.offset;
    run_.push_back(index);
  }

  void flush() {
    if (run_.size() == 1) entry(p_.layout[run_[0]], px(run_start_), kMinPx);
    if (run_.size() > 1) merged();
    run_.clear();
  }

 private:
  double px(std::uint64_t offset) const { return static_cast<double>(offset) * scale_; }

  void entry(const LayoutEntry& e, double x, double w) {
    out_ += "<g><title>";
    append_html(out_, e.name);
    out_ += '\n';
    out_ += hex(e.offset);
    out_ += " .. ";
    out_ += hex(e.offset + e.bytes);
    out_ += '\n';
    out_ += std::to_string(e.bytes);
    out_ += " bytes (";
    out_ += human_bytes(e.bytes);
    out_ += ")\n";
    out_ += kind_text(e.kind);
    out_ += ", ";
    out_ += encoding_text(e.encoding);
    out_ += "</title>";
    // Wide entries get a white edge so that neighbours of one kind part.
    appendf(out_, "<rect%s x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"%.0f\" fill=\"%s\"/>",
            w >= 4 ? " class=\"e\"" : "", x, std::max(w, kMinPx), kBarHeight,
            kColour[static_cast<std::size_t>(kind_index(e.kind))]);
    // A label where it fits (about 6.5 px per character at 11 px), cut
    // short with '~'.
    const std::size_t chars = w > 34 ? static_cast<std::size_t>((w - 8) / 6.5) : 0;
    if (chars >= 4) {
      std::string label = e.name.substr(0, chars);
      if (e.name.size() > chars) {
        label.resize(chars - 1);
        label += '~';
      }
      appendf(out_, "<text x=\"%.2f\" y=\"16\">", x + 4);
      append_html(out_, label);
      out_ += "</text>";
    }
    out_ += "</g>";
  }

  // One hatched rectangle in the colour of the run's largest kind.
  void merged() {
    std::array<std::uint64_t, kKinds + 1> by_kind{};
    std::uint64_t bytes = 0, end = 0;
    for (std::size_t i : run_) {
      const LayoutEntry& e = p_.layout[i];
      by_kind[static_cast<std::size_t>(kind_index(e.kind))] += e.bytes;
      bytes += e.bytes;
      end = std::max(end, e.offset + e.bytes);
    }
    const auto top = std::max_element(by_kind.begin(), by_kind.end()) - by_kind.begin();
    out_ += "<g><title>" + std::to_string(run_.size()) + " small entries, " +
            std::to_string(bytes) + " bytes (" + human_bytes(bytes) + "), " + hex(run_start_) +
            " .. " + hex(end);
    for (std::size_t k = 0; k < std::min(run_.size(), kListedSmall); ++k) {
      const LayoutEntry& e = p_.layout[run_[k]];
      out_ += "\n";
      append_html(out_, e.name);
      out_ += " @" + hex(e.offset) + ", " + std::to_string(e.bytes) + " B, " + kind_text(e.kind);
    }
    if (run_.size() > kListedSmall) {
      out_ += "\n... and " + std::to_string(run_.size() - kListedSmall) + " more";
    }
    out_ += "</title>";
    const double x = px(run_start_);
    const double w = std::max(px(end) - x, kMinPx);
    appendf(out_, "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"%.0f\" fill=\"%s\"/>", x, w,
            kBarHeight, kColour[static_cast<std::size_t>(top)]);
    appendf(out_,
            "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"%.0f\" fill=\"url(#small)\"/></g>", x,
            w, kBarHeight);
  }

  std::string& out_;
  const program::Program& p_;
  double scale_;  ///< pixels per byte
  std::vector<std::size_t> run_;
  std::uint64_t run_start_ = 0;
};

// Bank boundaries, at most one line every 4 px (every k-th bank beyond).
std::string bank_lines(std::string& out, const PoolInfo& pool, double bytes_per_px) {
  if (pool.banks < 2 || pool.capacity == 0) return {};
  const double bank_px = static_cast<double>(pool.capacity / pool.banks) / bytes_per_px;
  const auto every = static_cast<std::uint32_t>(std::max(1.0, std::ceil(4.0 / bank_px)));
  for (std::uint32_t b = every; b < pool.banks; b += every) {
    // Past the bar's edges too, so a boundary shows over dark entries.
    appendf(out, "<line class=\"bank\" x1=\"%.2f\" x2=\"%.2f\" y1=\"-3\" y2=\"%.0f\"/>",
            b * bank_px, b * bank_px, kBarHeight + 3);
  }
  return every == 1 ? "" : " (a line every " + std::to_string(every) + " banks)";
}

void axis(std::string& out, std::uint64_t span) {
  for (int q = 0; q <= 4; ++q) {
    const double x = kBarWidth * q / 4;
    const char* anchor = q == 0 ? "start" : q == 4 ? "end" : "middle";
    appendf(out, "<line class=\"tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\"/>", x, x,
            kBarHeight, kBarHeight + 4);
    appendf(out, "<text class=\"axis\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">", x,
            kBarHeight + 15, anchor);
    out += human_bytes(span / 4 * static_cast<std::uint64_t>(q) + (q == 4 ? span % 4 : 0));
    out += "</text>";
  }
}

void pool_bar(std::string& out, const program::Program& p, const Map& m, std::size_t chip,
              std::size_t pool) {
  const PoolInfo& info = m.pools[pool];
  const std::size_t cell = m.at(chip, pool);
  const std::uint64_t used = m.used(cell);
  const bool over = info.capacity != 0 && m.max_end[cell] > info.capacity;
  const std::uint64_t span = std::max<std::uint64_t>({info.capacity, m.max_end[cell], 1});
  const double bytes_per_px = static_cast<double>(span) / kBarWidth;
  out += "<div class=\"pool\"><div class=\"label\"><b>";
  append_html(out, info.name);
  out += "</b> " + human_bytes(used) + " of " +
         (info.capacity ? human_bytes(info.capacity) : std::string("unknown capacity")) + " (" +
         percent(used, info.capacity) + " full), " + std::to_string(m.entries[cell]) + " entries";
  std::string svg;
  const std::string bank_note = bank_lines(svg, info, bytes_per_px);
  if (info.banks > 1) {
    out += ", " + std::to_string(info.banks) + " banks of " +
           human_bytes(info.capacity / info.banks) + bank_note;
  }
  if (over) out += " <span class=\"bad\">entries end past the capacity (red line)</span>";
  out += "</div>\n";
  appendf(out, "<svg class=\"bar\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">",
          kBarWidth, kBarHeight + 18, kBarWidth, kBarHeight + 18);
  appendf(out, "<rect class=\"free\" x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\"/>", kBarWidth,
          kBarHeight);
  BarPainter painter(out, p, bytes_per_px);
  for (std::size_t i : m.drawn[cell]) painter.add(i);
  painter.flush();
  out += svg;
  if (over) {
    const double x = static_cast<double>(info.capacity) / bytes_per_px;
    appendf(out, "<line class=\"cap\" x1=\"%.2f\" x2=\"%.2f\" y1=\"-4\" y2=\"%.0f\"/>", x, x,
            kBarHeight + 4);
  }
  axis(out, span);
  out += "</svg></div>\n";
}

void header(std::string& out, const program::Program& p, const target::Target& t, const Map& m) {
  const auto& meta = p.meta;
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>SRAM map: ";
  append_html(out, meta.model_name);
  out +=
      "</title>\n<style>\n"
      "body{font:13px/1.4 system-ui,sans-serif;margin:16px 20px;color:#222}\n"
      "h1{font-size:20px;margin:0 0 8px}h2{font-size:15px;margin:18px 0 4px}\n"
      "table.meta td,table.meta th{padding:0 14px 0 0;text-align:left}\n"
      ".legend{margin:10px 0}.legend span{display:inline-block;margin-right:14px}\n"
      ".legend i{display:inline-block;width:12px;height:12px;margin-right:4px;"
      "vertical-align:-2px;border:1px solid #999}\n"
      ".pool{margin:2px 0 6px}.pool "
      "svg{margin-top:4px}.label{margin-left:2px}.bad{color:#c00;font-weight:bold}\n"
      "svg{display:block;overflow:visible}svg text{font:11px sans-serif;fill:#fff;"
      "pointer-events:none}svg text.axis{fill:#555}\n"
      "rect.free{fill:" +
      std::string(kFreeColour) +
      "}"
      "line.bank{stroke:#222;stroke-width:1}line.tick{stroke:#888}"
      "line.cap{stroke:#c00;stroke-width:2}\n"
      "rect.e{stroke:#fff;stroke-width:1}g:hover rect{stroke:#000;stroke-width:1}\n"
      "table.summary{border-collapse:collapse}table.summary th,table.summary td"
      "{padding:1px 8px;border-bottom:1px solid #e3e3e3;text-align:right}\n"
      "table.summary td.l,table.summary th.l{text-align:left}\n"
      ".mini{display:flex;width:160px;height:10px;background:" +
      std::string(kFreeColour) +
      "}\n</style></head><body>\n<h1>SRAM map</h1>\n<table class=\"meta\">";
  auto row = [&out](const char* key, const std::string& value) {
    out += "<tr><th>";
    out += key;
    out += "</th><td>";
    append_html(out, value);
    out += "</td></tr>";
  };
  row("model", meta.model_name);
  row("target", meta.target_name == t.name || t.name.empty()
                    ? meta.target_name
                    : meta.target_name + " (drawn with target " + t.name + ")");
  row("G", std::to_string(meta.group));
  row("KV", meta.kv);
  row("chips", std::to_string(m.chips));
  row("slots", std::to_string(meta.slots));
  row("layout entries", std::to_string(p.layout.size()));
  out += "</table>\n<p><a href=\"#summary\">Summary of every chip</a></p>\n";
}

void legend(std::string& out) {
  out += "<div class=\"legend\">";
  for (int k = 0; k < kKinds; ++k) {
    appendf(out, "<span><i style=\"background:%s\"></i>", kColour[static_cast<std::size_t>(k)]);
    out += std::string(program::data_kind_name(static_cast<DataKind>(k))) + "</span>";
  }
  out += "<span><i style=\"background:" + std::string(kFreeColour) + "\"></i>free</span>";
  out +=
      "<span><svg width=\"12\" height=\"12\" style=\"display:inline;vertical-align:-2px\">"
      "<rect width=\"12\" height=\"12\" fill=\"#9c9c9c\"/><rect width=\"12\" height=\"12\" "
      "fill=\"url(#small)\"/></svg> small entries merged (colour: their largest kind)</span>";
  out += "<span>| bank boundary</span></div>\n";
  // The hatch pattern, defined once for the document.
  out +=
      "<svg width=\"0\" height=\"0\" style=\"position:absolute\"><defs><pattern id=\"small\" "
      "width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" "
      "patternTransform=\"rotate(45)\"><rect width=\"2\" height=\"4\" fill=\"#fff\" "
      "fill-opacity=\".6\"/></pattern></defs></svg>\n";
}

void summary(std::string& out, const Map& m) {
  out +=
      "<h2 id=\"summary\">Summary: every chip</h2>\n<table class=\"summary\"><tr><th "
      "class=\"l\">chip</th>"
      "<th class=\"l\">pool</th>";
  for (int k = 0; k < kKinds; ++k) {
    out += "<th>" + std::string(program::data_kind_name(static_cast<DataKind>(k))) + "</th>";
  }
  out += "<th>used</th><th>capacity</th><th>full</th><th class=\"l\"></th></tr>\n";
  for (std::size_t chip = 0; chip < m.chips; ++chip) {
    for (std::size_t pool = 0; pool < m.pools.size(); ++pool) {
      const std::size_t cell = m.at(chip, pool);
      const std::uint64_t cap = std::max(m.pools[pool].capacity, m.max_end[cell]);
      out += "<tr><td class=\"l\">" + std::to_string(chip) + "</td><td class=\"l\">";
      append_html(out, m.pools[pool].name);
      out += "</td>";
      // Blank rather than "0 B", so that what a pool holds stands out.
      for (int k = 0; k < kKinds; ++k) {
        out += "<td>" + (m.bytes[cell][k] ? human_bytes(m.bytes[cell][k]) : "") + "</td>";
      }
      out += "<td>" + human_bytes(m.used(cell)) + "</td><td>" +
             (m.pools[pool].capacity ? human_bytes(m.pools[pool].capacity) : "?") + "</td><td>" +
             percent(m.used(cell), m.pools[pool].capacity) +
             "</td><td class=\"l\"><div "
             "class=\"mini\">";
      for (int k = 0; k <= kKinds; ++k) {
        if (m.bytes[cell][k] == 0 || cap == 0) continue;
        appendf(out, "<div style=\"width:%.2f%%;background:%s\"></div>",
                100.0 * static_cast<double>(m.bytes[cell][k]) / static_cast<double>(cap),
                kColour[static_cast<std::size_t>(k)]);
      }
      out += "</div></td></tr>\n";
    }
  }
  out += "</table>\n";
}

}  // namespace

std::string sram_map_html(const program::Program& p, const target::Target& t) {
  const Map m = build_map(p, t);
  std::string out;
  header(out, p, t, m);
  legend(out);
  const std::size_t detailed = std::min(m.chips, kSramMapDetailedChips);
  for (std::size_t chip = 0; chip < detailed; ++chip) {
    std::uint64_t used = 0, capacity = 0;
    for (std::size_t pool = 0; pool < m.pools.size(); ++pool) {
      used += m.used(m.at(chip, pool));
      capacity += m.pools[pool].capacity;
    }
    out += "<section><h2>chip " + std::to_string(chip) + "</h2><div class=\"label\">" +
           human_bytes(used) + " of " + human_bytes(capacity) + " (" + percent(used, capacity) +
           ")</div>\n";
    for (std::size_t pool = 0; pool < m.pools.size(); ++pool) pool_bar(out, p, m, chip, pool);
    out += "</section>\n";
  }
  if (m.chips > detailed) {
    out += "<p>Chips " + std::to_string(detailed) + " to " + std::to_string(m.chips - 1) +
           " are in the summary only.</p>\n";
  }
  summary(out, m);
  out += "</body></html>\n";
  return out;
}

}  // namespace lpu::report
