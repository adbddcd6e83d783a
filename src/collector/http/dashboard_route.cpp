// The dashboard (web/, embedded by cmake/EmbedWebAssets.cmake) at "/": static files with a
// Content-Security-Policy that allows only this origin's scripts, styles and API, so even a
// label that slipped past textContent could not load or run anything.
#include <httplib.h>

#include "collector/http/api_server.h"
#include "collector/http/web_assets.h"

namespace imsm::collector::http {

namespace {

constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

void ApiServer::add_dashboard_routes() {
  for (const char* path : {"/", "/app.js", "/style.css", "/uplot.min.js", "/uplot.min.css"}) {
    const WebAsset* asset = find_web_asset(path);
    if (!asset) continue;
    server_->Get(path, [asset](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", kCsp);
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("Cache-Control", "no-cache");
      res.set_content(asset->body.data(), asset->body.size(), std::string(asset->content_type));
    });
  }
}

}  // namespace imsm::collector::http
