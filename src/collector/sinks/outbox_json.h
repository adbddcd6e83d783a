// The one JSON form of an outbox item, shared by every sink that writes JSON (jsonl now;
// MQTT and server-sent events later). Keys snake_case, times ISO 8601 UTC beside exact
// microseconds, energy and demand as integers.
#pragma once

#include <string>

#include "collector/store/store.h"

namespace imsm::collector {

// One line of JSON (no newline).
[[nodiscard]] std::string outbox_json(const OutboxItem& item);

}  // namespace imsm::collector
