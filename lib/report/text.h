#pragma once
// Text helpers shared by the reports (internal to lib/report): JSON and
// HTML escaping that also repairs invalid UTF-8, since names come from
// model files and op tables that nobody promises are valid UTF-8, while a
// JSON parser (and a browser, less loudly) rejects such bytes.

#include <cstdint>
#include <string>
#include <string_view>

namespace lpu::report {

/// Appends `s` as a quoted JSON string: quotes, backslashes and control
/// characters escaped, each byte of an invalid UTF-8 sequence as U+FFFD.
void append_json_string(std::string& out, std::string_view s);

/// Appends `s` escaped for HTML text and attribute values (& < > " '),
/// invalid UTF-8 bytes as U+FFFD.
void append_html(std::string& out, std::string_view s);
std::string html_escape(std::string_view s);

/// Appends `v` in decimal.
void append_uint(std::string& out, std::uint64_t v);

/// "0x1a2b".
std::string hex(std::uint64_t v);

/// "1.50 MiB", "512 B": binary units with two decimals.
std::string human_bytes(std::uint64_t bytes);

}  // namespace lpu::report
