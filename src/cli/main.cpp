#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <map>

#include "cli/cli_error.h"
#include "cli/commands.h"

#ifndef IMSM_VERSION
#define IMSM_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace imsm::cli;
  CLI::App app{"imsmeter: IMS Series 1000/2000 electricity submetering in software"};
  app.set_version_flag("--version", std::string("imsmeter ") + IMSM_VERSION);
  app.require_subcommand(1);

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
  add(setup_serve);

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
