// The HTTP server's command-line options, shared by `serve --listen` and `collect --http`:
// HOST:PORT, the bearer token (inline or from a file), and the rule that a non-loopback
// address needs a token (refused at start-up, exit 2).
#pragma once

#include <string>

#include "collector/http/api_server.h"

namespace imsm::cli {

struct HttpCliOptions {
  std::string listen;  // HOST:PORT or [V6]:PORT
  std::string token, token_file;
};

// Fills host, port and token; `what` names the command and option in errors
// ("serve: --listen"). Throws UsageError (exit 2) or RuntimeError (an unreadable token file).
void apply_http_options(const HttpCliOptions& o, const std::string& what,
                        collector::http::ServerOptions& out);

}  // namespace imsm::cli
