#include "cli/http_options.h"

#include <fstream>

#include "cli/cli_error.h"

namespace imsm::cli {

namespace {

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

void parse_host_port(const std::string& text, const std::string& what, int example_port,
                     std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw UsageError(what + " '" + text +
                     "': expected HOST:PORT, e.g. 127.0.0.1:" + std::to_string(example_port));
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string digits = text.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(digits) > 65535)
    throw UsageError(what + " '" + text + "': port must be 0..65535");
  port = std::stoi(digits);
}

void apply_http_options(const HttpCliOptions& o, const std::string& what,
                        collector::http::ServerOptions& out) {
  parse_host_port(o.listen, what, 8080, out.host, out.port);
  const auto command = what.substr(0, what.find(':'));
  out.token = o.token_file.empty() ? o.token : read_token_file(o.token_file, command);
  if (!collector::http::is_loopback(out.host) && out.token.empty())
    throw UsageError(what + " " + o.listen +
                     " is not a loopback address: give --http-token or --http-token-file");
}

}  // namespace imsm::cli
