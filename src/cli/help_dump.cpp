#include "cli/help_dump.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "cli/cli_error.h"
#include "cli/command_names.h"
#include "cli/completion.h"
#include "cli/man_page.h"

#ifndef IMSM_VERSION
#define IMSM_VERSION "0.0.0"
#endif

namespace imsm::cli {

namespace {

struct HelpDumpOptions {
  std::string man_dir;
  std::string completion_dir;
  bool bash = false;
  bool zsh = false;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw RuntimeError("help-dump: cannot write " + path);
}

int run_help_dump(const CLI::App& app, const HelpDumpOptions& o) {
  if (o.man_dir.empty() && o.completion_dir.empty() && !o.bash && !o.zsh)
    throw UsageError("help-dump: give --man-dir DIR, --completion-dir DIR, --bash or --zsh");
  if (!o.man_dir.empty()) {
    write_file(o.man_dir + "/imsmeter.1", man_page_root(app, IMSM_VERSION));
    for (const CLI::App* sub : visible_commands(app))
      write_file(o.man_dir + "/imsmeter-" + sub->get_name() + ".1",
                 man_page_command(*sub, IMSM_VERSION));
  }
  if (!o.completion_dir.empty()) {
    write_file(o.completion_dir + "/imsmeter", bash_completion(app));
    write_file(o.completion_dir + "/_imsmeter", zsh_completion(app));
  }
  if (o.bash) std::cout << bash_completion(app);
  if (o.zsh) std::cout << zsh_completion(app);
  return kExitOk;
}

}  // namespace

Runner setup_help_dump(CLI::App& app) {
  auto opt = std::make_shared<HelpDumpOptions>();
  CLI::App* sub = app.add_subcommand(
      "help-dump", "Write the man pages or a shell completion script (used by the build)");
  sub->group("");  // hidden from --help and from the command list
  sub->add_option("--man-dir", opt->man_dir, "Write imsmeter.1 and imsmeter-COMMAND.1 here");
  sub->add_option("--completion-dir", opt->completion_dir,
                  "Write the bash (imsmeter) and zsh (_imsmeter) completions here");
  sub->add_flag("--bash", opt->bash, "Print the bash completion script");
  sub->add_flag("--zsh", opt->zsh, "Print the zsh completion script");
  const CLI::App* root = &app;
  return [opt, root] { return run_help_dump(*root, *opt); };
}

}  // namespace imsm::cli
