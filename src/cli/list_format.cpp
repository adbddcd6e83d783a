#include "cli/list_format.h"

#include <CLI/CLI.hpp>

#include "cli/cli_error.h"

namespace imsm::cli {

void add_list_format_option(CLI::App& sub, std::string& format) {
  sub.add_option("--format", format, "jsonl (default), csv or table");
}

collector::ListFormat list_format(const char* command, const std::string& text) {
  collector::ListFormat f{};
  if (!collector::parse_list_format(text, f))
    throw UsageError(std::string(command) + ": --format must be jsonl, csv or table, not '" + text +
                     "'");
  return f;
}

}  // namespace imsm::cli
