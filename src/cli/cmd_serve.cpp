// imsmeter serve --db PATH [--listen HOST:PORT] [--http-token T | --http-token-file F]: the HTTP
// API and Prometheus /metrics over the store, opened read-only (docs/http.md).
#include <pthread.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "collector/http/api_server.h"
#include "collector/modbus/gateway_component.h"
#include "collector/store/store.h"

namespace imsm::cli {

namespace {

struct ServeOptions {
  std::string db, config;
  std::string listen = "127.0.0.1:8080";
  std::string token, token_file;
  std::size_t max_concurrent = 4;
  std::string modbus;  // HOST:PORT of the Modbus TCP gateway; empty: none (docs/modbus.md)
  bool modbus_allow_remote = false;
};

// "HOST:PORT" or "[V6]:PORT" -> host, port (0..65535).
void parse_listen(const std::string& text, collector::http::ServerOptions& out,
                  const std::string& option = "--listen") {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw UsageError("serve: " + option + " '" + text + "': expected HOST:PORT, e.g. 127.0.0.1:" +
                     (option == "--listen" ? "8080" : "1502"));
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535)
    throw UsageError("serve: " + option + " '" + text + "': port must be 0..65535");
  out.host = host;
  out.port = std::stoi(port);
}

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw RuntimeError("serve: --http-token-file " + path + ": cannot read it");
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
    token.pop_back();
  if (token.empty()) throw UsageError("serve: --http-token-file " + path + ": the token is empty");
  return token;
}

// SIGINT/SIGTERM stop the server: blocked in every thread, taken by one waiting thread.
int serve_until_signal(collector::http::ApiServer& server) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    if (!done) server.stop();
  });
  server.run();
  done = true;
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return kExitOk;
}

// The Modbus TCP gateway on its own read-only store handle, serving on its own thread until
// the returned component is destroyed.
std::unique_ptr<collector::modbus::GatewayComponent> start_modbus(
    const ServeOptions& o, const collector::CollectorConfig& config) {
  collector::http::ServerOptions where;
  parse_listen(o.modbus, where, "--modbus");
  if (!collector::http::is_loopback(where.host) && !o.modbus_allow_remote)
    throw UsageError("serve: --modbus " + o.modbus +
                     " is not a loopback address and Modbus has no authentication: add "
                     "--modbus-allow-remote to serve it anyway");
  collector::modbus::GatewayOptions go;
  go.host = where.host;
  go.port = where.port;
  go.config = config;
  auto gateway = std::make_unique<collector::modbus::GatewayComponent>(
      collector::open_store(o.db, collector::StoreOptions{true, false}), go);
  try {
    gateway->configure();
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("serve: ") + e.what());  // "modbus: HOST:PORT: why"
  }
  // Its thread must not take SIGINT/SIGTERM: serve_until_signal's waiter sigwaits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  gateway->start();
  std::printf("imsmeter serve: modbus on %s:%d\n", go.host.c_str(), gateway->bound_port());
  return gateway;
}

int run_serve(const ServeOptions& o) {
  collector::http::ServerOptions so;
  parse_listen(o.listen, so);
  so.token = o.token_file.empty() ? o.token : read_token_file(o.token_file);
  so.threads = o.max_concurrent;
  try {
    so.config = collector::load_config_or_default(o.config);
  } catch (const collector::ConfigError& e) {
    throw UsageError(std::string("serve: ") + e.what());
  }
  if (!collector::http::is_loopback(so.host) && so.token.empty())
    throw UsageError("serve: --listen " + o.listen +
                     " is not a loopback address: give --http-token or --http-token-file");
  std::unique_ptr<collector::Store> store;
  try {
    store = collector::open_store(o.db, collector::StoreOptions{true, false});
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("serve: ") + o.db + ": " + e.what());
  }
  collector::http::ApiServer server(*store, so);
  const auto modbus = o.modbus.empty() ? nullptr : start_modbus(o, so.config);
  try {
    server.bind();
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("serve: --listen: ") + e.what());
  }
  std::printf("imsmeter serve: listening on http://%s:%d\n", so.host.c_str(), server.bound_port());
  std::fflush(stdout);
  return serve_until_signal(server);
}

}  // namespace

Runner setup_serve(CLI::App& app) {
  auto opt = std::make_shared<ServeOptions>();
  CLI::App* sub = app.add_subcommand("serve", "Serve the HTTP API and Prometheus /metrics");
  sub->add_option("--db", opt->db, "SQLite database written by collect (opened read-only)")
      ->required();
  sub->add_option("--config", opt->config,
                  "Configuration with the tariffs, tenants and billing time zone of /api/report");
  sub->add_option("--listen", opt->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free port, "
                  "printed at start-up); a non-loopback host needs a token");
  auto* tok = sub->add_option("--http-token", opt->token,
                              "Every request must carry 'Authorization: Bearer TOKEN'");
  sub->add_option("--http-token-file", opt->token_file,
                  "Read the token from this file's first line")
      ->excludes(tok);
  sub->add_option("--max-concurrent", opt->max_concurrent, "Requests served at once (default 4)")
      ->check(CLI::Range(1, 64));
  sub->add_option("--modbus", opt->modbus,
                  "Also serve the Modbus TCP gateway on HOST:PORT (e.g. 127.0.0.1:1502; "
                  "docs/modbus.md); no authentication, so loopback only unless allowed");
  sub->add_flag("--modbus-allow-remote", opt->modbus_allow_remote,
                "Let --modbus bind a non-loopback address (anyone who reaches it can read "
                "every meter)");
  sub->footer(
      "Prints 'imsmeter serve: listening on http://HOST:PORT' once it accepts connections; "
      "SIGINT/SIGTERM stop it. Exit codes: 0 stopped, 1 unreadable database or address in use, "
      "2 bad arguments (a non-loopback --listen without a token).");
  return [opt] { return run_serve(*opt); };
}

}  // namespace imsm::cli
