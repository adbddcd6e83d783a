#include "cli/man_page.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/command_names.h"

namespace imsm::cli {

namespace {

// Escapes text for roff: backslashes, and a leading '.' or '\'' that would start a request.
std::string roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (const char ch : text) {
    if (line_start && (ch == '.' || ch == '\'')) out += "\\&";
    if (ch == '\\')
      out += "\\e";
    else if (ch == '-')
      out += "\\-";
    else
      out += ch;
    line_start = ch == '\n';
  }
  return out;
}

// Multi-line help (footers): each line its own output line.
std::string roff_lines(const std::string& text) {
  std::string out;
  for (const char ch : roff(text)) out += ch == '\n' ? std::string("\n.br\n") : std::string(1, ch);
  return out;
}

std::string header(const std::string& name, const std::string& version) {
  return fmt::format(".TH \"{}\" 1 \"\" \"imsmeter {}\" \"imsmeter manual\"\n", name, version);
}

std::string value_name(const CLI::Option& o) {
  std::string t = o.get_type_name();
  if (t.empty()) t = "VALUE";
  return t;
}

// "--db TEXT", "-h, --help", "file".
std::string option_label(const CLI::Option& o) {
  if (!o.nonpositional()) return "\\fI" + roff(o.get_name()) + "\\fR";
  std::string label;
  for (const auto& s : o.get_snames())
    label += (label.empty() ? "\\fB\\-" : ", \\fB\\-") + s + "\\fR";
  for (const auto& l : o.get_lnames())
    label += (label.empty() ? "\\fB\\-\\-" : ", \\fB\\-\\-") + roff(l) + "\\fR";
  if (o.get_expected_min() > 0) label += " \\fI" + roff(value_name(o)) + "\\fR";
  return label;
}

std::string synopsis(const CLI::App& sub) {
  std::string s = fmt::format(".SH SYNOPSIS\n\\fBimsmeter {}\\fR", roff(sub.get_name()));
  for (const CLI::Option* o : sub.get_options()) {
    if (o->get_positional() || !o->get_required()) continue;
    s += " " + option_label(*o);
  }
  s += " [\\fIOPTIONS\\fR]";
  for (const CLI::Option* o : sub.get_options())
    if (o->get_positional()) s += fmt::format(" [\\fI{}\\fR]", roff(o->get_name()));
  return s + "\n";
}

}  // namespace

std::string man_page_root(const CLI::App& app, const std::string& version) {
  std::string s = header("IMSMETER", version);
  s += ".SH NAME\nimsmeter \\- " + roff(app.get_description()) + "\n";
  s += ".SH SYNOPSIS\n\\fBimsmeter\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n"
       ".br\n\\fBimsmeter \\-\\-version\\fR\n.br\n\\fBimsmeter \\-\\-help\\fR\n";
  s += ".SH COMMANDS\n";
  for (const CLI::App* sub : visible_commands(app))
    s += fmt::format(".TP\n\\fB{}\\fR\n{}\nSee \\fBimsmeter\\-{}\\fR(1).\n", roff(sub->get_name()),
                     roff(sub->get_description()), roff(sub->get_name()));
  s += ".SH EXIT STATUS\n" + roff_lines(app.get_footer()) + "\n";
  s += ".SH SEE ALSO\n";
  bool first = true;
  for (const CLI::App* sub : visible_commands(app)) {
    s += fmt::format("{}\\fBimsmeter\\-{}\\fR(1)", first ? "" : ",\n", roff(sub->get_name()));
    first = false;
  }
  return s + "\n";
}

std::string man_page_command(const CLI::App& sub, const std::string& version) {
  const std::string name = "imsmeter-" + sub.get_name();
  std::string s = header(roff(name), version);
  s += fmt::format(".SH NAME\n{} \\- {}\n", roff(name), roff(sub.get_description()));
  s += synopsis(sub);
  s += ".SH DESCRIPTION\n" + roff(sub.get_description()) + ".\n";
  s += ".SH OPTIONS\n";
  for (const CLI::Option* o : sub.get_options()) {
    std::string text = o->get_description();
    if (o->get_required()) text += " (required)";
    s += fmt::format(".TP\n{}\n{}\n", option_label(*o), roff(text));
  }
  if (!sub.get_footer().empty()) s += ".SH NOTES\n" + roff_lines(sub.get_footer()) + "\n";
  s += ".SH SEE ALSO\n\\fBimsmeter\\fR(1)\n";
  return s;
}

}  // namespace imsm::cli
