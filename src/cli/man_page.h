// roff man pages (man(7)) for the app and each subcommand, from their CLI11 definitions.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace imsm::cli {

// imsmeter(1): the synopsis, the command list and the exit codes.
[[nodiscard]] std::string man_page_root(const CLI::App& app, const std::string& version);
// imsmeter-COMMAND(1): synopsis, description, every option with its help text, the footer.
[[nodiscard]] std::string man_page_command(const CLI::App& sub, const std::string& version);

}  // namespace imsm::cli
