#include "collector/http/api_server.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

#include "collector/http/health_route.h"
#include "collector/http/metrics.h"
#include "collector/http/report_route.h"
#include "collector/http/routes.h"
#include "collector/http/web_assets.h"

namespace imsm::collector::http {

namespace {

UtcMicros now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& parameter) {
  res.status = status;
  res.set_content(error_json(message, parameter), "application/json");
}

// Equal length and bytes, without stopping at the first difference.
bool same_token(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

ApiServer::ApiServer(Store& store, ServerOptions options)
    : store_(store),
      options_(std::move(options)),
      stream_(store_, store_mutex_, options_.stream),
      server_(std::make_unique<httplib::Server>()) {
  // Each open event stream holds a worker thread: they get their own, so streams never
  // starve the API's requests.
  const auto threads = options_.threads + options_.stream.max_streams;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(options_.max_body);
  // cpp-httplib writes headers and body in separate sends: with Nagle on, a small response's
  // second send waits for the client's delayed ACK (~40 ms), capping one keep-alive client
  // at ~25 small requests a second (bench_api.py, /api/meters/1).
  server_->set_tcp_nodelay(true);
  add_routes();
}

ApiServer::~ApiServer() {
  stop();
}

void ApiServer::bind() {
  const bool ok = options_.port == 0 ? (port_ = server_->bind_to_any_port(options_.host)) > 0
                                     : server_->bind_to_port(options_.host, options_.port);
  if (!ok)
    throw std::runtime_error("cannot listen on " + options_.host + ":" +
                             std::to_string(options_.port));
  if (options_.port != 0) port_ = options_.port;
}

void ApiServer::run() {
  stream_.start();
  server_->listen_after_bind();
}

UtcMicros ApiServer::now() const {
  return options_.now ? options_.now() : now_micros();
}

bool ApiServer::running() const {
  return server_->is_running();
}

void ApiServer::stop() {
  stream_.stop();  // first: open streams end, so the workers can be joined
  if (server_) server_->stop();
}

void ApiServer::add_routes() {
  using httplib::Request;
  using httplib::Response;
  const auto token = options_.token;
  server_->set_pre_routing_handler([token](const Request& req, Response& res) {
    // The dashboard's files hold no data: the page asks for the token and sends it itself.
    if (find_web_asset(req.path)) return httplib::Server::HandlerResponse::Unhandled;
    if (token.empty() || same_token(req.get_header_value("Authorization"), "Bearer " + token))
      return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401, "missing or wrong Authorization: Bearer token", "");
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->set_error_handler([](const Request& req, Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no such endpoint: " + req.path, "");
    if (res.status == 413) send_error(res, 413, "request body too large", "");
  });
  // Each endpoint: its body from the store (under the mutex), ApiError as its JSON.
  auto route = [this](const char* pattern, auto body) {
    server_->Get(pattern, [this, body](const Request& req, Response& res) {
      try {
        Body b;
        {
          std::lock_guard lock(store_mutex_);
          b = body(store_, req);
        }
        if (!b.next_cursor.empty()) res.set_header("X-Next-Cursor", b.next_cursor);
        res.status = b.status;
        res.set_content(b.text, b.content_type.c_str());
      } catch (const ApiError& e) {
        send_error(res, e.status, e.what(), e.parameter);
      } catch (const std::exception& e) {
        send_error(res, 500, e.what(), "");
      }
    });
  };
  route("/healthz", [this](Store& s, const Request&) {
    return healthz_body(s.schema_version(), options_.health ? options_.health() : HealthList{});
  });
  route("/metrics", [this](Store& s, const Request&) {
    MetricsContext ctx;
    ctx.now = now();
    ctx.validation = options_.config.validation;
    if (options_.writer_metrics) ctx.writer = options_.writer_metrics();
    if (options_.health) ctx.health = options_.health();
    return Body{"text/plain; version=0.0.4; charset=utf-8", metrics_text(s, ctx), {}};
  });
  route("/api/meters", [this](Store& s, const Request&) {
    return meters_body(s, status_rule(now(), options_.config.validation));
  });
  route(R"(/api/meters/([^/]+))", [this](Store& s, const Request& r) {
    return meter_body(s, r.matches[1].str(), status_rule(now(), options_.config.validation));
  });
  route(R"(/api/meters/([^/]+)/readings)",
        [](Store& s, const Request& r) { return readings_body(s, r.matches[1].str(), r.params); });
  route("/api/events", [](Store& s, const Request& r) { return events_body(s, r.params); });
  route("/api/report",
        [this](Store& s, const Request& r) { return report_body(s, options_.config, r.params); });
  route("/api/sources", [](Store& s, const Request&) { return sources_body(s); });
  add_stream_route();
  add_dashboard_routes();
}

}  // namespace imsm::collector::http
