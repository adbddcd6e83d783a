// imsmeter serve --db PATH [--listen HOST:PORT] [--http-token T | --http-token-file F]: the HTTP
// API and Prometheus /metrics over the store, opened read-only (docs/http.md).
#include <pthread.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/http_options.h"
#include "cli/modbus_options.h"
#include "cli/net_module.h"
#include "collector/http/server_options.h"
#include "collector/store/store.h"

namespace imsm::cli {

namespace {

struct ServeOptions {
  std::string db, config;
  std::string listen = "127.0.0.1:8080";
  std::string token, token_file;
  std::size_t max_concurrent = 4;
  std::size_t max_streams = 16;
  std::string modbus;  // HOST:PORT of the Modbus TCP gateway; empty: none (docs/modbus.md)
  bool modbus_allow_remote = false;
};

// SIGINT/SIGTERM stop the server: blocked in every thread, taken by one waiting thread.
int serve_until_signal(collector::net::HttpServer& server) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    // httplib's stop() is lost before its accept loop runs (no handshake for that): wait
    // until it runs (a signal at start-up) or has returned.
    while (!done && !server.running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
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
std::unique_ptr<collector::net::ModbusComponent> start_modbus(
    const ServeOptions& o, const collector::modbus::GatewayOptions& go) {
  auto gateway = make_modbus_gateway(go, "serve", o.db);
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
  so.threads = o.max_concurrent;
  so.stream.max_streams = o.max_streams;
  try {
    so.config = collector::load_config_or_default(o.config);
  } catch (const collector::ConfigError& e) {
    throw UsageError(std::string("serve: ") + e.what());
  }
  apply_http_options(HttpCliOptions{o.listen, o.token, o.token_file}, "serve: --listen", so);
  const ModbusCliOptions mo{o.modbus, o.modbus_allow_remote};
  const auto go = o.modbus.empty() ? collector::modbus::GatewayOptions{}
                                   : modbus_gateway_options(mo, "serve", so.config);
  const auto& net = require_net_module("serve");
  std::unique_ptr<collector::Store> store;
  try {
    store = collector::open_store(o.db, collector::StoreOptions{true, false});
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("serve: ") + o.db + ": " + e.what());
  }
  const auto server = net.make_http_server(*store, so);
  const auto modbus = o.modbus.empty() ? nullptr : start_modbus(o, go);
  try {
    server->bind();
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("serve: --listen: ") + e.what());
  }
  std::printf("imsmeter serve: listening on http://%s:%d\n", so.host.c_str(), server->bound_port());
  std::fflush(stdout);
  return serve_until_signal(*server);
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
  sub->add_option("--max-streams", opt->max_streams,
                  "Event streams (/api/stream, the dashboard's live updates) open at once; "
                  "more are answered 503 (default 16)")
      ->check(CLI::Range(1, 256));
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
