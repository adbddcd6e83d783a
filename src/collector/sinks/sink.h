// Sinks (docs/collector.md "Sinks"): consumers of the store's outbox. Each reads the
// outbox from its own durable cursor after commits, so one that was down catches up; a new
// sink is one file plus one registration line in sinks.cpp (rtl_433's output_* files).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/store/store.h"

namespace imsm::collector {

class Sink {
 public:
  virtual ~Sink() = default;
  // The name its durable cursor is kept under, e.g. "jsonl:/var/lib/imsmeter/out.jsonl".
  [[nodiscard]] virtual const std::string& name() const = 0;
  // Delivers `batch` (in sequence order) and returns the sequence number of the last item it
  // delivered durably (its new cursor). Throws std::runtime_error when it cannot deliver;
  // the pump retries the same items later (at-least-once: consumers dedupe by seq).
  virtual std::uint64_t consume(const std::vector<OutboxItem>& batch) = 0;
};

// "jsonl:PATH" (or "jsonl:-" for standard output), "mqtt://HOST:PORT?..." (docs/mqtt.md). Throws
// std::invalid_argument naming the problem for an unknown kind or a malformed spec, and
// net::NetModuleError (a std::runtime_error) for an MQTT sink without the network module. With
// `store` (which must outlive the sink), an MQTT sink names each Home Assistant device after
// the meter's registry label and model.
[[nodiscard]] std::unique_ptr<Sink> make_sink(const std::string& spec, Store* store = nullptr);
// True when make_sink(spec) loads the network module (net/net_module.h) for this kind (mqtt,
// mqtts); the CLI loads it first, so a missing module fails before anything starts.
[[nodiscard]] bool sink_needs_net_module(const std::string& spec);
// The kinds make_sink knows, for help texts: "jsonl, mqtt".
[[nodiscard]] std::string sink_kinds();

}  // namespace imsm::collector
