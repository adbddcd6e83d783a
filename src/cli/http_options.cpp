#include "cli/http_options.h"

#include <fstream>

#include "cli/cli_error.h"

namespace imsm::cli {

namespace {

// "HOST:PORT" or "[V6]:PORT" -> host, port (0..65535).
void parse_listen(const std::string& text, const std::string& what,
                  collector::http::ServerOptions& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw UsageError(what + " '" + text + "': expected HOST:PORT, e.g. 127.0.0.1:8080");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535)
    throw UsageError(what + " '" + text + "': port must be 0..65535");
  out.host = host;
  out.port = std::stoi(port);
}

std::string read_token_file(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw RuntimeError(what + ": --http-token-file " + path + ": cannot read it");
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
    token.pop_back();
  if (token.empty())
    throw UsageError(what + ": --http-token-file " + path + ": the token is empty");
  return token;
}

}  // namespace

void apply_http_options(const HttpCliOptions& o, const std::string& what,
                        collector::http::ServerOptions& out) {
  parse_listen(o.listen, what, out);
  const auto command = what.substr(0, what.find(':'));
  out.token = o.token_file.empty() ? o.token : read_token_file(o.token_file, command);
  if (!collector::http::is_loopback(out.host) && out.token.empty())
    throw UsageError(what + " " + o.listen +
                     " is not a loopback address: give --http-token or --http-token-file");
}

}  // namespace imsm::cli
