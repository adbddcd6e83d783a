// `--sink jsonl:PATH`: every committed reading, rejection, retraction and event as one JSON
// line (outbox_json.h), appended to PATH (created when missing; "-" is standard output) and
// flushed to disk (fdatasync) before its cursor advances.
#pragma once

#include <memory>
#include <string>

#include "collector/sinks/sink.h"

namespace imsm::collector {

[[nodiscard]] std::unique_ptr<Sink> make_jsonl_sink(const std::string& target);

}  // namespace imsm::collector
