#include "collector/validate/validator_state.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace imsm::collector {

namespace {

// Version 2 adds the decider (the second lookahead) after the merge phase; version 1 blobs
// (no decider) are still read.
constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kCandidatesVersion = 1;

class Writer {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_integral_v<T>);
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    for (std::size_t i = 0; i < sizeof(T); ++i) out_.push_back(static_cast<char>(u >> (8 * i)));
  }
  void put_bool(bool b) { put(std::uint8_t{b ? std::uint8_t{1} : std::uint8_t{0}}); }
  void put_string(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    out_ += s;
  }
  void put_obs(const Observation& o) {
    put(o.frame_id);
    put(o.source_id);
    put(o.received_at);
    put(o.stream_offset);
    put(static_cast<std::uint8_t>(o.burst));
    out_.append(reinterpret_cast<const char*>(o.raw.data()), o.raw.size());
  }
  void put_obs_list(const std::vector<Observation>& v) {
    put(static_cast<std::uint32_t>(v.size()));
    for (const auto& o : v) put_obs(o);
  }
  void put_reading(const std::optional<Reading>& r) {
    put_bool(r.has_value());
    if (!r) return;
    put(r->frame_id);
    put(r->meter_id);
    put(r->received_at);
    put(r->source_id);
    put(r->epoch);
    put(r->total_kwh);
    put(r->kwh24);
    put(r->peak_demand_counts);
    put(r->demand_resets);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what Writer wrote; any short read or bad value sets `ok` false (and reads zeros).
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  T get() {
    static_assert(std::is_integral_v<T>);
    if (in_.size() - pos_ < sizeof(T)) {
      ok = false;
      return T{};
    }
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      u |= std::uint64_t{static_cast<std::uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += sizeof(T);
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(u));
  }
  bool get_bool() { return get<std::uint8_t>() != 0; }
  std::string get_string() {
    const auto n = get<std::uint32_t>();
    if (!ok || in_.size() - pos_ < n) {
      ok = false;
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  Observation get_obs() {
    Observation o;
    o.frame_id = get<std::int64_t>();
    o.source_id = get<std::uint32_t>();
    o.received_at = get<std::int64_t>();
    o.stream_offset = get<std::uint64_t>();
    const auto burst = get<std::uint8_t>();
    if (burst > static_cast<std::uint8_t>(protocol::Burst::Overlapped)) ok = false;
    o.burst = static_cast<protocol::Burst>(burst);
    if (in_.size() - pos_ < o.raw.size()) {
      ok = false;
      return o;
    }
    std::memcpy(o.raw.data(), in_.data() + pos_, o.raw.size());
    pos_ += o.raw.size();
    return o;
  }
  std::vector<Observation> get_obs_list(std::size_t max) {
    const auto n = get<std::uint32_t>();
    std::vector<Observation> v;
    if (!ok || n > max) {
      ok = false;
      return v;
    }
    for (std::uint32_t i = 0; i < n && ok; ++i) v.push_back(get_obs());
    return v;
  }
  std::optional<Reading> get_reading() {
    if (!get_bool()) return std::nullopt;
    Reading r;
    r.frame_id = get<std::int64_t>();
    r.meter_id = get<std::uint16_t>();
    r.received_at = get<std::int64_t>();
    r.source_id = get<std::uint32_t>();
    r.epoch = get<std::uint32_t>();
    r.total_kwh = get<std::int64_t>();
    r.kwh24 = get<std::uint32_t>();
    r.peak_demand_counts = get<std::uint16_t>();
    r.demand_resets = get<std::uint8_t>();
    return r;
  }
  [[nodiscard]] bool at_end() const { return pos_ == in_.size(); }
  bool ok = true;

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode_meter_state(const MeterState& m) {
  Writer w;
  w.put(kVersion);
  w.put(m.id);
  w.put_bool(m.registered);
  w.put(m.max_power_w);
  w.put_bool(m.discovered_at.has_value());
  w.put(m.discovered_at.value_or(0));
  w.put_bool(m.silent);
  w.put(m.epoch);
  w.put_bool(m.has_last);
  w.put(m.last_at);
  w.put(m.last_total_kwh);
  w.put(m.last_kwh24);
  w.put(m.last_peak);
  w.put(m.last_resets);
  w.put(static_cast<std::uint8_t>(m.history_len));
  for (std::size_t i = 0; i < m.history_len; ++i) {
    w.put(m.history[i].at);
    w.put(m.history[i].total_kwh);
  }
  w.put_reading(m.last_reading);
  w.put_reading(m.prev_reading);
  w.put_bool(m.held.has_value());
  if (m.held) w.put_obs(*m.held);
  w.put(static_cast<std::uint8_t>(m.held_reason));
  w.put_string(m.held_detail);
  w.put_bool(m.held_suspect);
  w.put_obs_list(m.shared_chain);
  w.put_obs_list(m.unanchored);
  w.put_bool(m.merged_at.has_value());
  w.put(m.merged_at.value_or(0));
  w.put_bool(m.decider.has_value());
  if (m.decider) w.put_obs(*m.decider);
  return w.take();
}

std::optional<MeterState> decode_meter_state(std::string_view blob) {
  Reader r(blob);
  const auto version = r.get<std::uint8_t>();
  if (version != 1 && version != kVersion) return std::nullopt;
  MeterState m;
  m.id = r.get<std::uint16_t>();
  m.registered = r.get_bool();
  m.max_power_w = r.get<std::int64_t>();
  const bool discovered = r.get_bool();
  const auto discovered_at = r.get<std::int64_t>();
  if (discovered) m.discovered_at = discovered_at;
  m.silent = r.get_bool();
  m.epoch = r.get<std::uint32_t>();
  m.has_last = r.get_bool();
  m.last_at = r.get<std::int64_t>();
  m.last_total_kwh = r.get<std::int64_t>();
  m.last_kwh24 = r.get<std::uint32_t>();
  m.last_peak = r.get<std::uint16_t>();
  m.last_resets = r.get<std::uint8_t>();
  m.history_len = r.get<std::uint8_t>();
  if (m.history_len > MeterState::kHistory) return std::nullopt;
  for (std::size_t i = 0; i < m.history_len; ++i) {
    m.history[i].at = r.get<std::int64_t>();
    m.history[i].total_kwh = r.get<std::int64_t>();
  }
  m.last_reading = r.get_reading();
  m.prev_reading = r.get_reading();
  if (r.get_bool()) m.held = r.get_obs();
  const auto reason = r.get<std::uint8_t>();
  if (reason >= kRejectReasonCount) return std::nullopt;
  m.held_reason = static_cast<RejectReason>(reason);
  m.held_detail = r.get_string();
  m.held_suspect = r.get_bool();
  m.shared_chain = r.get_obs_list(MeterState::kMaxSharedChain);
  m.unanchored = r.get_obs_list(MeterState::kMaxUnanchored);
  const bool merged = r.get_bool();
  const auto merged_at = r.get<std::int64_t>();
  if (merged) m.merged_at = merged_at;
  if (version >= 2 && r.get_bool()) m.decider = r.get_obs();
  if (!r.ok || !r.at_end()) return std::nullopt;
  return m;
}

std::string encode_candidates(const CandidateChains& chains) {
  Writer w;
  w.put(kCandidatesVersion);
  w.put(static_cast<std::uint32_t>(chains.size()));
  for (const auto& c : chains) w.put_obs_list(c);
  return w.take();
}

std::optional<CandidateChains> decode_candidates(std::string_view blob) {
  Reader r(blob);
  if (r.get<std::uint8_t>() != kCandidatesVersion) return std::nullopt;
  const auto n = r.get<std::uint32_t>();
  constexpr std::uint32_t kMaxChains = 64;
  constexpr std::size_t kMaxChain = 1024;
  if (!r.ok || n > kMaxChains) return std::nullopt;
  CandidateChains chains;
  for (std::uint32_t i = 0; i < n && r.ok; ++i) chains.push_back(r.get_obs_list(kMaxChain));
  if (!r.ok || !r.at_end()) return std::nullopt;
  return chains;
}

}  // namespace imsm::collector
