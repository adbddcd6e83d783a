// The API's endpoints (docs/http.md): each takes the request's query parameters and returns the
// body; a bad parameter throws ApiError (400 naming it), an unknown meter ApiError 404.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "collector/report/listing.h"
#include "collector/store/store.h"

namespace imsm::collector::http {

using Params = std::multimap<std::string, std::string>;

struct ApiError : std::runtime_error {
  ApiError(int http_status, std::string param_name, const std::string& message)
      : std::runtime_error(message), status(http_status), parameter(std::move(param_name)) {}
  int status;
  std::string parameter;  // empty when no parameter is at fault
};

struct Body {
  std::string content_type = "application/json";
  std::string text;
  std::string next_cursor;  // readings: set when more rows follow (also an X-Next-Cursor header)
  int status = 200;
};

inline constexpr std::size_t kDefaultLimit = 1000;
inline constexpr std::size_t kMaxLimit = 10000;

// `rule`: the server's clock and the silent rule the statuses are computed with.
[[nodiscard]] Body meters_body(Store& store, const MeterStatusRule& rule);
[[nodiscard]] Body meter_body(Store& store, const std::string& id, const MeterStatusRule& rule);
[[nodiscard]] Body readings_body(Store& store, const std::string& id, const Params& q);
[[nodiscard]] Body events_body(Store& store, const Params& q);
[[nodiscard]] Body sources_body(Store& store);
// {"error": message, "parameter": name} (parameter omitted when empty).
[[nodiscard]] std::string error_json(const std::string& message, const std::string& parameter);

}  // namespace imsm::collector::http
