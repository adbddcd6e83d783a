// The user-visible subcommands of the app (hidden ones, in the "" group, left out).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace imsm::cli {

[[nodiscard]] std::vector<const CLI::App*> visible_commands(const CLI::App& app);
// True for any subcommand name, hidden ones included.
[[nodiscard]] bool is_command(const CLI::App& app, std::string_view name);
// "decode, model, collect, ..." in the order they were added.
[[nodiscard]] std::string command_list(const CLI::App& app);

}  // namespace imsm::cli
