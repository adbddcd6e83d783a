// Shell completion scripts for bash and zsh, from the app's CLI11 definitions: commands at
// the first word, each command's options after it, files for an option's value.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace imsm::cli {

[[nodiscard]] std::string bash_completion(const CLI::App& app);
[[nodiscard]] std::string zsh_completion(const CLI::App& app);

}  // namespace imsm::cli
