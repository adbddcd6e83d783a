// The dashboard's static files (web/, and uPlot from web/node_modules), embedded into the
// binary at build time by cmake/EmbedWebAssets.cmake: nothing is read from disk at run time,
// so the dashboard works offline and from an installed package.
#pragma once

#include <string_view>

namespace imsm::collector::http {

struct WebAsset {
  std::string_view path;          // "/", "/app.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
};

// The asset served at `path`, or nullptr.
[[nodiscard]] const WebAsset* find_web_asset(std::string_view path);

}  // namespace imsm::collector::http
