// imsmeter demo [--duration D] [--port N] [--speed N] [--dir DIR]: a simulated building of 24
// meters on a pty at accelerated speed, collected into SQLite in a temporary directory, with the
// dashboard on http://127.0.0.1:8080 (the next free port if taken) (docs/dashboard.md).
//
// It runs its own binary twice, `simulate --out pty` and `collect --source serial:PTY --http`,
// rather than both in-process: the demo then exercises exactly the commands a user runs (and
// the tests check), each keeps its own signal handling and threads (collect's SIGTERM flush),
// and the output shows the two commands to run by hand.
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "cli/child_process.h"
#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/demo_building.h"
#include "cli/net_module.h"
#include "sim/duration.h"

namespace imsm::cli {

namespace {

std::atomic<bool> g_demo_stop{false};
void demo_on_stop(int) {
  g_demo_stop = true;
}

struct DemoOptions {
  std::string duration;  // empty: until Ctrl-C
  int port = 8080;
  int speed = 60;
  std::string dir;
};

bool port_free(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// The port asked for, else the next free one (0: any, chosen by collect).
int pick_port(int wanted) {
  if (wanted == 0) return 0;
  for (int p = wanted; p < wanted + 100 && p <= 65535; ++p)
    if (port_free(p)) return p;
  throw RuntimeError("demo: no free port in " + std::to_string(wanted) + ".." +
                     std::to_string(wanted + 99) + " on 127.0.0.1");
}

std::string self_path() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw RuntimeError("demo: cannot find its own binary (/proc/self/exe)");
  return p.string();
}

std::string make_dir(const std::string& wanted) {
  if (!wanted.empty()) {
    std::filesystem::create_directories(wanted);
    return wanted;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "imsmeter-demo.XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw RuntimeError("demo: cannot create a temporary directory");
  return tmpl;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw RuntimeError("demo: cannot write " + path);
}

// "prefix REST" from a child's announcements (skipping other lines), or a RuntimeError.
std::string await_line(ChildProcess& child, const std::string& prefix, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto line = child.read_line(std::chrono::seconds(1));
    if (line && line->rfind(prefix, 0) == 0) return line->substr(prefix.size());
    if (!line && child.exited()) break;
  }
  throw RuntimeError(std::string("demo: ") + what + " did not start (see its messages above)");
}

void print_banner(const std::string& url, const std::string& dir, int speed) {
  const int cadence_s = 300 / speed;
  std::printf(
      "imsmeter demo: 24 meters on a simulated RS485 bus at %dx real time\n"
      "  dashboard: %s/\n"
      "  database:  %s/demo.db (kept; try `imsmeter meters --db %s/demo.db`)\n"
      "\n"
      "What to look at:\n"
      "  - meters appear as their first frames arrive: one reading per meter every %d s\n"
      "    (5 minutes of bus time), the list updates live without reloading\n"
      "  - 2579 Shop A: a CT clamped the wrong way round (registers a third of its energy)\n"
      "  - 104 Apt 104: loses power %d s in and turns silent 3 cadences later\n"
      "  - 2578 Suite 400: its peak demand is reset %d s in (Events: demand_reset)\n"
      "  - 501, 502: heard on the bus but not configured (provisional); 401: no tenant\n"
      "  - click a meter for its energy and demand charts; Bill: a period's bill and its CSV\n"
      "Ctrl-C stops.\n",
      speed, url.c_str(), dir.c_str(), dir.c_str(), cadence_s, 600 / speed, 1800 / speed);
  std::fflush(stdout);
}

// What the API serves now: meters and readings (CI checks this line).
void print_served(const std::string& url) {
  const auto hostport = url.substr(std::string("http://").size());
  const auto colon = hostport.rfind(':');
  const auto res = require_net_module("demo").http_get(
      hostport.substr(0, colon), std::stoi(hostport.substr(colon + 1)), "/api/meters", 10);
  if (!res || res->status != 200) {
    std::printf("demo: the API did not answer /api/meters\n");
    return;
  }
  const auto meters = nlohmann::json::parse(res->body);
  std::int64_t readings = 0;
  std::size_t heard = 0;
  for (const auto& m : meters) {
    const auto n = m.value("readings", std::int64_t{0});
    readings += n;
    heard += n > 0 ? 1 : 0;
  }
  std::printf("demo: the API served %zu meters (%zu with readings) and %lld readings\n",
              meters.size(), heard, static_cast<long long>(readings));
  std::fflush(stdout);
}

int run_demo(const DemoOptions& o) {
  std::optional<std::chrono::nanoseconds> limit;
  if (!o.duration.empty()) {
    const auto ns = sim::parse_duration_ns(o.duration);
    if (!ns || *ns == 0)
      throw UsageError("demo: --duration '" + o.duration + "': expected e.g. 30s, 10m, 2h");
    limit = std::chrono::nanoseconds(*ns);
  }
  (void)require_net_module("demo");  // its collect serves the dashboard; fail before starting
  const std::string dir = make_dir(o.dir);
  const auto building = demo_building();
  write_file(dir + "/fleet.toml", building.fleet_toml);
  write_file(dir + "/imsmeter.toml", building.collector_toml);
  const std::string self = self_path();
  const int port = pick_port(o.port);

  struct sigaction sa {};
  sa.sa_handler = demo_on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const auto speed = std::to_string(o.speed);
  ChildProcess sim({self, "simulate", "--config", dir + "/fleet.toml", "--out", "pty", "--speed",
                    speed, "--no-progress", "--drain", "1"});
  const auto pty = await_line(sim, "pty main ", "simulate");
  ChildProcess collect({self, "collect", "--source", "serial:" + pty, "--db", dir + "/demo.db",
                        "--config", dir + "/imsmeter.toml", "--clock-scale", speed,
                        "--commit-interval-ms", "200", "--http",
                        "127.0.0.1:" + std::to_string(port), "--log-level", "warn"});
  const auto url = await_line(collect, "imsmeter collect: listening on ", "collect --http");
  print_banner(url, dir, o.speed);

  const auto start = std::chrono::steady_clock::now();
  while (!g_demo_stop) {
    if (limit && std::chrono::steady_clock::now() - start >= *limit) break;
    if (sim.exited() || collect.exited()) {
      std::fprintf(stderr, "demo: %s stopped unexpectedly\n",
                   sim.exited() ? "simulate" : "collect");
      return kExitRuntime;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  print_served(url);
  sim.stop(std::chrono::seconds(10));
  const int rc = collect.stop(std::chrono::seconds(30));
  std::printf("demo: stopped; the database stays in %s/demo.db\n", dir.c_str());
  return rc == 0 ? kExitOk : kExitRuntime;
}

}  // namespace

Runner setup_demo(CLI::App& app) {
  auto opt = std::make_shared<DemoOptions>();
  CLI::App* sub = app.add_subcommand(
      "demo", "A simulated 24-meter building, collected live, with the dashboard in a browser");
  sub->add_option("--duration", opt->duration,
                  "Stop after this much real time (30s, 10m; default: until Ctrl-C)");
  sub->add_option("--port", opt->port,
                  "Dashboard port on 127.0.0.1 (default 8080, the next free one if taken; 0: any)")
      ->check(CLI::Range(0, 65535));
  sub->add_option("--speed", opt->speed, "Simulated time runs N times real time (default 60)")
      ->check(CLI::Range(1, 600));
  sub->add_option("--dir", opt->dir,
                  "Directory for the database and configurations (default: a new temporary one)");
  sub->footer(
      "Runs `imsmeter simulate --out pty` and `imsmeter collect --http` as child processes and "
      "prints the dashboard's URL. Exit codes: 0 stopped, 1 a child failed, 2 bad arguments.");
  return [opt] { return run_demo(*opt); };
}

}  // namespace imsm::cli
