#include "collector/model.h"

#include <type_traits>

#include "common/text.h"

namespace imsm::collector {

namespace {

constexpr std::array<const char*, kRejectReasonCount> kReasonNames = {
    "kwh_backwards",
    "kwh_too_fast",
    "resets_backwards",
    "resets_too_fast",
    "peak_fell",
    "unknown_meter_shared_burst",
    "unknown_meter_unconfirmed",
    "held_not_confirmed",
    "peak_too_high",
    "retracted",
    "collision_phantom",
    "corrupted_id",
};

constexpr std::array<const char*, kEventKindCount> kEventNames = {
    "discovered", "demand_reset", "rollover",  "silent",      "back_online",
    "replaced",   "retracted",    "source_up", "source_down", "rebuilt",
};

template <class Enum, std::size_t N>
std::optional<Enum> parse_name(const std::array<const char*, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

const char* to_string(RejectReason r) {
  return kReasonNames.at(static_cast<std::size_t>(r));
}

std::optional<RejectReason> parse_reject_reason(std::string_view s) {
  return parse_name<RejectReason>(kReasonNames, s);
}

const char* to_string(EventKind k) {
  return kEventNames.at(static_cast<std::size_t>(k));
}

std::optional<EventKind> parse_event_kind(std::string_view s) {
  return parse_name<EventKind>(kEventNames, s);
}

std::string event_kind_names() {
  std::string out;
  for (const char* n : kEventNames) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

EventDetail& EventDetail::add(std::string key, std::int64_t v) {
  fields_.emplace_back(std::move(key), v);
  return *this;
}

EventDetail& EventDetail::add(std::string key, std::string v) {
  fields_.emplace_back(std::move(key), std::move(v));
  return *this;
}

EventDetail& EventDetail::add(std::string key, bool v) {
  fields_.emplace_back(std::move(key), v);
  return *this;
}

const EventDetail::Value* EventDetail::find(std::string_view key) const {
  for (const auto& [k, v] : fields_)
    if (k == key) return &v;
  return nullptr;
}

std::string EventDetail::json() const {
  std::string out = "{";
  for (const auto& [k, v] : fields_) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    append_json_escaped(out, k);
    out += "\":";
    std::visit(
        [&out](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, bool>) {
            out += x ? "true" : "false";
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            append_int(out, x);
          } else {
            out.push_back('"');
            append_json_escaped(out, x);
            out.push_back('"');
          }
        },
        v);
  }
  out.push_back('}');
  return out;
}

void Decisions::clear() {
  readings.clear();
  rejections.clear();
  held.clear();
  released.clear();
  retracted.clear();
  events.clear();
  meters_changed.clear();
  state_changed.clear();
}

bool Decisions::empty() const {
  return readings.empty() && rejections.empty() && held.empty() && released.empty() &&
         retracted.empty() && events.empty() && meters_changed.empty() && state_changed.empty();
}

}  // namespace imsm::collector
