// GET /api/stream (docs/http.md): the outbox as server-sent events. Each open stream holds a
// worker thread of its own (ServerOptions: threads + max_streams) waiting in the shared
// EventStream, never a query loop of its own.
#include <httplib.h>

#include <charconv>
#include <memory>
#include <optional>

#include "collector/http/api_server.h"
#include "collector/http/routes.h"

namespace imsm::collector::http {

namespace {

std::optional<std::uint64_t> event_id(const std::string& text) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

void ApiServer::add_stream_route() {
  server_->Get("/api/stream", [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<std::uint64_t> last;
    // Browsers send Last-Event-ID when they reconnect; `last_event_id` is the same for a
    // client that cannot set headers.
    auto text = req.get_header_value("Last-Event-ID");
    const char* name = "Last-Event-ID";
    if (text.empty() && req.has_param("last_event_id")) {
      text = req.get_param_value("last_event_id");
      name = "last_event_id";
    }
    if (!text.empty() && !(last = event_id(text))) {
      res.status = 400;
      res.set_content(error_json(std::string(name) + " '" + text +
                                     "': expected an outbox "
                                     "sequence number (the id: of an event)",
                                 name),
                      "application/json");
      return;
    }
    std::shared_ptr<EventStream::Client> client;
    try {
      client = stream_.open(last);
    } catch (const std::exception& e) {
      res.status = 500;
      res.set_content(error_json(e.what(), ""), "application/json");
      return;
    }
    if (!client) {
      res.status = 503;
      res.set_header("Retry-After", "5");
      res.set_content(error_json("too many event streams open (limit " +
                                     std::to_string(options_.stream.max_streams) + ")",
                                 ""),
                      "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_chunked_content_provider("text/event-stream",
                                     [client](std::size_t, httplib::DataSink& sink) {
                                       std::string out;
                                       try {
                                         if (!client->next(out)) {
                                           sink.done();  // the server stops
                                           return true;
                                         }
                                       } catch (const std::exception&) {
                                         return false;  // the store failed: the client retries
                                       }
                                       return sink.write(out.data(), out.size());
                                     });
  });
}

}  // namespace imsm::collector::http
