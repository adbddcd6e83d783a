// The HTTP server's command-line options, shared by `serve --listen` and `collect --http`:
// HOST:PORT, the bearer token (inline or from a file), and the rule that a non-loopback
// address needs a token (refused at start-up, exit 2).
#pragma once

#include <string>

#include "collector/http/server_options.h"

namespace imsm::cli {

struct HttpCliOptions {
  std::string listen;  // HOST:PORT or [V6]:PORT
  std::string token, token_file;
};

// "HOST:PORT" or "[V6]:PORT" -> host, port (0..65535). Throws UsageError naming `what`
// ("serve: --listen") and suggesting 127.0.0.1:`example_port`.
void parse_host_port(const std::string& text, const std::string& what, int example_port,
                     std::string& host, int& port);

// Fills host, port and token; `what` names the command and option in errors
// ("serve: --listen"). Throws UsageError (exit 2) or RuntimeError (an unreadable token file).
void apply_http_options(const HttpCliOptions& o, const std::string& what,
                        collector::http::ServerOptions& out);

}  // namespace imsm::cli
