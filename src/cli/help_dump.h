// `imsmeter help-dump` (hidden): man pages and shell completions generated from the same
// CLI11 option definitions as --help, so they never drift. The build runs it (src/cli/
// CMakeLists.txt) and CMake installs what it writes.
//   imsmeter help-dump --man-dir DIR        DIR/imsmeter.1, DIR/imsmeter-COMMAND.1
//   imsmeter help-dump --completion-dir DIR DIR/imsmeter (bash), DIR/_imsmeter (zsh)
//   imsmeter help-dump --bash | --zsh       the completion script on stdout
#pragma once

#include "cli/commands.h"

namespace imsm::cli {

Runner setup_help_dump(CLI::App& app);

}  // namespace imsm::cli
