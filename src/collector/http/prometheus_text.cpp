#include "collector/http/prometheus_text.h"

namespace imsm::collector::http {

namespace {

std::string escape(std::string_view v, bool quote) {
  std::string o;
  o.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') {
      o += "\\\\";
    } else if (c == '\n') {
      o += "\\n";
    } else if (quote && c == '"') {
      o += "\\\"";
    } else {
      o.push_back(c);
    }
  }
  return o;
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  return escape(v, true);
}
std::string escape_help(std::string_view v) {
  return escape(v, false);
}

void append_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(escape_help(help)).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void append_sample(std::string& out, std::string_view name, const Labels& labels,
                   std::string_view value) {
  out.append(name);
  if (!labels.empty()) {
    out.push_back('{');
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i) out.push_back(',');
      out.append(labels[i].first).append("=\"").append(escape_label_value(labels[i].second));
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.append(" ").append(value).append("\n");
}

}  // namespace imsm::collector::http
