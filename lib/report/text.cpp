#include "lib/report/text.h"

#include <array>
#include <charconv>
#include <cinttypes>
#include <cstdio>

namespace lpu::report {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

bool continuation(std::string_view s, std::size_t i, unsigned char lo = 0x80,
                  unsigned char hi = 0xBF) {
  if (i >= s.size()) return false;
  const auto c = static_cast<unsigned char>(s[i]);
  return c >= lo && c <= hi;
}

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF), 0 if none.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return continuation(s, i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return continuation(s, i + 1, lo, hi) && continuation(s, i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    return continuation(s, i + 1, lo, hi) && continuation(s, i + 2) && continuation(s, i + 3) ? 4
                                                                                              : 0;
  }
  return 0;
}

// Calls ascii(out, c) for each ASCII byte and copies well-formed multi-byte
// sequences through; each byte of a malformed one becomes U+FFFD.
template <typename Ascii>
void append_utf8(std::string& out, std::string_view s, Ascii ascii) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (n == 1) {
      ascii(out, s[i]);
    } else {
      out.append(s.data() + i, n);
    }
    i += n;
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_utf8(out, s, [](std::string& o, char c) {
    switch (c) {
      case '"':
        o += "\\\"";
        return;
      case '\\':
        o += "\\\\";
        return;
      case '\n':
        o += "\\n";
        return;
      case '\t':
        o += "\\t";
        return;
      default:
        break;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      o += buf;
      return;
    }
    o += c;
  });
  out += '"';
}

void append_html(std::string& out, std::string_view s) {
  append_utf8(out, s, [](std::string& o, char c) {
    switch (c) {
      case '&':
        o += "&amp;";
        return;
      case '<':
        o += "&lt;";
        return;
      case '>':
        o += "&gt;";
        return;
      case '"':
        o += "&quot;";
        return;
      case '\'':
        o += "&#39;";
        return;
      default:
        break;
    }
    // Control characters other than tab and newline are not allowed in
    // HTML text; show them as U+FFFD rather than drop them silently.
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
      o += kReplacement;
      return;
    }
    o += c;
  });
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_html(out, s);
  return out;
}

void append_uint(std::string& out, std::uint64_t v) {
  std::array<char, 24> buf;
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), r.ptr);
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
  return buf;
}

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f %s", v, kUnits[u]);
  return buf;
}

}  // namespace lpu::report
