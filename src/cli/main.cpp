#include <CLI/CLI.hpp>

#include <iostream>
#include <map>
#include <string>
#include <string_view>

#include "cli/cli_error.h"
#include "cli/command_names.h"
#include "cli/commands.h"
#include "cli/help_dump.h"
#include "cli/version.h"

namespace {

using namespace imsm::cli;

// `imsmeter foo` and `imsmeter` alone: say what is wrong and list the commands, before
// CLI11 would answer "A subcommand is required" (exit 2).
int check_command_word(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with('-')) continue;  // top-level flags (--help, --version) have no value
    if (is_command(app, arg)) return kExitOk;
    std::cerr << "imsmeter: unknown command '" << arg << "'; commands: " << command_list(app)
              << "\nRun 'imsmeter --help' for what each does.\n";
    return kExitUsage;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "--version" || arg == "--help-all") return kExitOk;
  }
  std::cerr << "imsmeter: a command is required; commands: " << command_list(app)
            << "\nRun 'imsmeter --help' for what each does.\n";
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"imsmeter: IMS Series 1000/2000 electricity submetering in software"};
  app.name("imsmeter");
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  app.footer(
      "Exit codes everywhere: 0 success, 1 runtime failure (a file or device that cannot "
      "be read or written), 2 usage or input error.\nEach command has --help and a man "
      "page: man imsmeter-COMMAND.");

  std::map<const CLI::App*, Runner> runners;
  auto add = [&](Runner (*setup)(CLI::App&)) {
    Runner r = setup(app);
    runners[app.get_subcommands({}).back()] = std::move(r);
  };
  add(setup_decode);
  add(setup_model);
  add(setup_collect);
  add(setup_readings);
  add(setup_events);
  add(setup_meters);
  add(setup_report);
  add(setup_rebuild);
  add(setup_simulate);
  add(setup_accuracy);
  add(setup_help_dump);
  add(setup_meter);
  add(setup_serve);
  add(setup_demo);

  if (const int rc = check_command_word(app, argc, argv); rc != kExitOk) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  try {
    for (const CLI::App* sub : app.get_subcommands()) return runners.at(sub)();
  } catch (const UsageError& e) {
    std::cerr << "imsmeter: " << e.what() << "\n";
    return kExitUsage;
  } catch (const RuntimeError& e) {
    std::cerr << "imsmeter: " << e.what() << "\n";
    return kExitRuntime;
  } catch (const std::exception& e) {
    std::cerr << "imsmeter: internal error: " << e.what() << "\n";
    return kExitRuntime;
  }
  return kExitUsage;
}
