// The Prometheus text exposition format (version 0.0.4): HELP/TYPE lines and samples with
// label values escaped (backslash, double quote and line feed), docs/http.md "Metrics".
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imsm::collector::http {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A label value as it goes between the quotes: \ -> \\, " -> \", line feed -> \n.
[[nodiscard]] std::string escape_label_value(std::string_view v);
// HELP text: \ -> \\, line feed -> \n.
[[nodiscard]] std::string escape_help(std::string_view v);

// "# HELP name help\n# TYPE name type\n".
void append_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help);
// "name{k="v",...} value\n" (no braces without labels); `value` is already text.
void append_sample(std::string& out, std::string_view name, const Labels& labels,
                   std::string_view value);

}  // namespace imsm::collector::http
