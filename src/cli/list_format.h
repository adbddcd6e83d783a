// The --format option of the listing commands (readings, events, meters, report --rollup):
// jsonl (default), csv or table, checked in one place.
#pragma once

#include <string>

#include "collector/report/listing.h"

namespace CLI {
class App;
}

namespace imsm::cli {

// Adds `--format` to a listing subcommand, storing the text in `format`.
void add_list_format_option(CLI::App& sub, std::string& format);

// The list format `text` names; a UsageError "COMMAND: --format must be jsonl, csv or table,
// not 'TEXT'" otherwise.
[[nodiscard]] collector::ListFormat list_format(const char* command, const std::string& text);

}  // namespace imsm::cli
