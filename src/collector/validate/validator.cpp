#include "collector/validate/validator.h"

#include <fmt/format.h>

#include <algorithm>

#include "collector/validate/kwh_line.h"
#include "collector/validate/merge_part.h"

namespace imsm::collector {

namespace {
__extension__ using u128 = unsigned __int128;

// A demand reset is recognised at most once per display cycle of 19 s (guide 3.8, SPEC
// "Demand reset").
constexpr std::int64_t kDisplayCycleUs = 19 * kMicrosPerSecond;
constexpr std::size_t kMaxCandidatesPerId = 8;
// How long a pair's lock-step merges are looked for after their last own readings (a day).
constexpr int kMergedSpanCadences = 288;
}  // namespace

std::uint64_t Validator::max_kwh_advance(std::int64_t max_power_w, std::int64_t elapsed_us) {
  if (elapsed_us <= 0 || max_power_w <= 0) return 1;
  // W x us / (3.6e9 W us per kWh)
  const u128 wus = static_cast<u128>(max_power_w) * static_cast<u128>(elapsed_us);
  const u128 kwh = wus / static_cast<u128>(3'600'000'000'000ULL);
  return kwh >= (1u << 24) ? (1u << 24) : static_cast<std::uint64_t>(kwh) + 1;
}

std::optional<Validator::Check> Validator::check(std::uint32_t prev_kwh24, std::uint16_t prev_peak,
                                                 std::uint8_t prev_resets, UtcMicros prev_at,
                                                 const protocol::Frame& next, UtcMicros next_at,
                                                 std::int64_t max_power_w) {
  const std::int64_t dt = std::max<std::int64_t>(0, next_at - prev_at);
  const std::uint32_t adv = next.total_kwh.advance_since(Kwh24{prev_kwh24});
  const std::uint64_t allowed = max_kwh_advance(max_power_w, dt);
  if (adv > allowed) {
    if (adv >= Kwh24::kModulus / 2)
      return Check{RejectReason::KwhBackwards,
                   fmt::format("kWh {} -> {}: back by {}", prev_kwh24, next.total_kwh.value,
                               Kwh24::kModulus - adv)};
    return Check{RejectReason::KwhTooFast,
                 fmt::format("kWh {} -> {}: +{} in {:.3f} s, at most {} at {} W", prev_kwh24,
                             next.total_kwh.value, adv, static_cast<double>(dt) / 1e6, allowed,
                             max_power_w)};
  }
  const unsigned d = static_cast<std::uint8_t>(next.demand_resets.value - prev_resets);
  const std::int64_t allowed_resets = dt / kDisplayCycleUs + 1;
  if (static_cast<std::int64_t>(d) > allowed_resets) {
    if (d >= 128)
      return Check{RejectReason::ResetsBackwards,
                   fmt::format("reset counter {} -> {}", prev_resets, next.demand_resets.value)};
    return Check{RejectReason::ResetsTooFast,
                 fmt::format("reset counter {} -> {}: +{} in {:.3f} s", prev_resets,
                             next.demand_resets.value, d, static_cast<double>(dt) / 1e6)};
  }
  // Peak demand is an average power: it cannot exceed the meter's maximum power (with 25% for
  // supply voltage above nominal, SPEC "Supply ranges").
  if (static_cast<std::int64_t>(next.peak_demand.watts()) > max_power_w + max_power_w / 4)
    return Check{RejectReason::PeakTooHigh,
                 fmt::format("peak demand {} counts = {} W above {} W", next.peak_demand.value,
                             next.peak_demand.watts(), max_power_w)};
  if (d == 0 && next.peak_demand.value < prev_peak)
    return Check{RejectReason::PeakFell, fmt::format("peak demand {} -> {} counts without a reset",
                                                     prev_peak, next.peak_demand.value)};
  return std::nullopt;
}

void MeterState::remember(UtcMicros at, std::int64_t total) {
  if (history_len == kHistory) {
    for (std::size_t i = 1; i < kHistory; ++i) history[i - 1] = history[i];
    --history_len;
  }
  history[history_len++] = HistoryPoint{at, total};
}

void Validator::register_meter(std::uint16_t id, std::optional<std::int64_t> max_power_w) {
  auto& m = meters_[id];
  m.id = id;
  m.registered = true;
  m.max_power_w = max_power_w.value_or(settings_.default_max_power_w);
}

void Validator::restore(const MeterState& state) {
  auto& m = meters_[state.id];
  const bool registered = m.registered;
  const auto max_w = m.max_power_w;
  const std::int32_t bucket = m.phase_bucket;
  m = state;
  m.phase_bucket = bucket;
  place(m);
  arm(m);
  if (registered) {  // the configuration wins over what the store remembered
    m.registered = true;
    m.max_power_w = max_w;
  } else if (!state.registered) {
    m.max_power_w = settings_.default_max_power_w;
  }
}

const MeterState* Validator::meter(std::uint16_t id) const {
  auto it = meters_.find(id);
  return it == meters_.end() ? nullptr : &it->second;
}

std::optional<Validator::Check> Validator::check_against_last(const MeterState& m,
                                                              const Observation& obs) const {
  const protocol::Frame f = obs.frame();
  auto c =
      check(m.last_kwh24, m.last_peak, m.last_resets, m.last_at, f, obs.received_at, m.max_power_w);
  if (c) return c;
  // Peak demand is a 15-minute average (guide 3.7): a new peak P needs P x 15 min of energy in
  // a window ending after the last frame. The register bounds that energy from above: at
  // most E(now) + 1 - E(r) kWh for any reading r at least 16 minutes (15 + a minute for the
  // transmission latency) before the last frame. counts x 20 W x 0.25 h <= kWh x 1000.
  const bool new_peak =
      f.peak_demand.value != m.last_peak || f.demand_resets.value != m.last_resets;
  if (!new_peak || f.peak_demand.value == 0) return std::nullopt;
  constexpr std::int64_t kWindowUs = 16 * 60 * kMicrosPerSecond;
  const MeterState::HistoryPoint* r = nullptr;
  for (std::size_t i = 0; i < m.history_len; ++i)
    if (m.history[i].at <= m.last_at - kWindowUs) r = &m.history[i];
  if (!r) return std::nullopt;
  const std::int64_t now_total = m.last_total_kwh + f.total_kwh.advance_since(Kwh24{m.last_kwh24});
  const std::int64_t bound_kwh = now_total + 1 - r->total_kwh;
  if (static_cast<std::int64_t>(f.peak_demand.value) > 200 * bound_kwh)
    return Check{
        RejectReason::PeakTooHigh,
        fmt::format("peak demand {} counts needs {:.2f} kWh in 15 minutes; at most {} "
                    "kWh since the reading of {} kWh",
                    f.peak_demand.value, f.peak_demand.value / 200.0, bound_kwh, r->total_kwh)};
  return std::nullopt;
}

void Validator::reject(const Observation& obs, RejectReason reason, std::string detail,
                       Decisions& out) {
  out.rejections.push_back(
      Rejection{obs.frame_id, obs.frame().meter_id.value, reason, std::move(detail)});
}

void Validator::hold(MeterState& m, const Observation& obs, const Check& why, Decisions& out) {
  m.held = obs;
  m.held_suspect = false;
  m.held_reason = why.reason;
  m.held_detail = why.detail;
  out.held.push_back(obs.frame_id);
}

void Validator::start_epoch(MeterState& m, const Observation& obs, Decisions& out, bool replacement,
                            const std::string& why) {
  const protocol::Frame f = obs.frame();
  if (replacement) {
    out.events.push_back(Event{obs.received_at, EventKind::Replaced, m.id, obs.source_id,
                               EventDetail{}
                                   .add("old_epoch", std::int64_t{m.epoch})
                                   .add("new_epoch", std::int64_t{m.epoch} + 1)
                                   .add("old_total_kwh", m.last_total_kwh)
                                   .add("old_kwh24", std::int64_t{m.last_kwh24})
                                   .add("new_kwh24", std::int64_t{f.total_kwh.value})
                                   .add("old_demand_resets", std::int64_t{m.last_resets})
                                   .add("new_demand_resets", std::int64_t{f.demand_resets.value})
                                   .add("last_reading_at_us", m.last_at)
                                   .add("frame_id", obs.frame_id)
                                   .add("reason", why)});
    ++m.epoch;
  }
  if (!m.discovered_at) {
    m.discovered_at = obs.received_at;
    out.events.push_back(Event{obs.received_at, EventKind::Discovered, m.id, obs.source_id,
                               EventDetail{}
                                   .add("registered", m.registered)
                                   .add("total_kwh", std::int64_t{f.total_kwh.value})});
  }
  if (m.silent) {
    m.silent = false;
    out.events.push_back(Event{obs.received_at, EventKind::BackOnline, m.id, obs.source_id,
                               EventDetail{}.add("last_reading_at_us", m.last_at)});
  }
  m.has_last = true;
  m.last_at = obs.received_at;
  m.last_total_kwh = f.total_kwh.value;
  m.last_kwh24 = f.total_kwh.value;
  m.last_peak = f.peak_demand.value;
  m.last_resets = f.demand_resets.value;
  out.readings.push_back(Reading{obs.frame_id, m.id, obs.received_at, obs.source_id, m.epoch,
                                 m.last_total_kwh, m.last_kwh24, m.last_peak, m.last_resets,
                                 obs.raw[0]});
  m.prev_reading.reset();
  m.last_reading = out.readings.back();
  m.history_len = 0;
  m.remember(m.last_at, m.last_total_kwh);
  out.meters_changed.push_back(m.id);
}

void Validator::accept(MeterState& m, const Observation& obs, Decisions& out) {
  const protocol::Frame f = obs.frame();
  const std::uint32_t adv = f.total_kwh.advance_since(Kwh24{m.last_kwh24});
  const std::int64_t total = m.last_total_kwh + adv;
  if (adv > 0 && f.total_kwh.value < m.last_kwh24)
    out.events.push_back(Event{obs.received_at, EventKind::Rollover, m.id, obs.source_id,
                               EventDetail{}
                                   .add("from_kwh24", std::int64_t{m.last_kwh24})
                                   .add("to_kwh24", std::int64_t{f.total_kwh.value})
                                   .add("total_kwh", total)});
  const unsigned d = static_cast<std::uint8_t>(f.demand_resets.value - m.last_resets);
  if (d > 0)
    out.events.push_back(Event{obs.received_at, EventKind::DemandReset, m.id, obs.source_id,
                               EventDetail{}
                                   .add("resets", std::int64_t{d})
                                   .add("counter", std::int64_t{f.demand_resets.value})
                                   .add("peak_before_counts", std::int64_t{m.last_peak})
                                   .add("peak_after_counts", std::int64_t{f.peak_demand.value})});
  if (m.silent) {
    m.silent = false;
    out.events.push_back(Event{obs.received_at, EventKind::BackOnline, m.id, obs.source_id,
                               EventDetail{}.add("last_reading_at_us", m.last_at)});
    out.meters_changed.push_back(m.id);
  }
  m.last_at = obs.received_at;
  m.last_total_kwh = total;
  m.last_kwh24 = f.total_kwh.value;
  m.last_peak = f.peak_demand.value;
  m.last_resets = f.demand_resets.value;
  out.readings.push_back(Reading{obs.frame_id, m.id, obs.received_at, obs.source_id, m.epoch, total,
                                 m.last_kwh24, m.last_peak, m.last_resets, obs.raw[0]});
  m.prev_reading = m.last_reading;
  m.last_reading = out.readings.back();
  m.remember(m.last_at, m.last_total_kwh);
}

std::optional<UtcMicros> Validator::phase_ref(const MeterState& m) const {
  // The phase is the time of the last accepted reading; before the first one, that of the
  // newest frame from a shared burst carrying its ID (a registered meter not heard alone yet);
  // or, when newer, the last lock-step merge it was recognised in (its own frames all merged).
  std::optional<UtcMicros> r;
  if (m.has_last)
    r = m.last_at;
  else if (!m.unanchored.empty())
    r = m.unanchored.back().received_at;
  if (m.merged_at && (!r || *m.merged_at > *r)) r = m.merged_at;
  return r;
}

void Validator::place(MeterState& m) {
  if (settings_.collision_window_ms <= 0) return;
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  if (phase_buckets_.empty())
    phase_buckets_.resize(
        static_cast<std::size_t>((cadence_us + kPhaseBucketUs - 1) / kPhaseBucketUs));
  std::int32_t b = -1;
  if (const auto ref = phase_ref(m))
    b = static_cast<std::int32_t>((*ref % cadence_us + cadence_us) % cadence_us / kPhaseBucketUs);
  if (b == m.phase_bucket) return;
  if (m.phase_bucket >= 0)
    std::erase(phase_buckets_[static_cast<std::size_t>(m.phase_bucket)], m.id);
  if (b >= 0) {  // in ID order: what is due does not depend on the order meters arrived
    auto& bucket = phase_buckets_[static_cast<std::size_t>(b)];
    bucket.insert(std::lower_bound(bucket.begin(), bucket.end(), m.id), m.id);
  }
  m.phase_bucket = b;
}

Validator::Phase Validator::phase_at(const MeterState& m, UtcMicros t,
                                     bool across_merged_span) const {
  const auto r = phase_ref(m);
  if (!r) return Phase::Unknown;
  const UtcMicros ref = *r;
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  const std::int64_t age_us = t - ref;
  const std::int64_t horizon_us =
      settings_.collision_horizon_cadences * cadence_us + cadence_us / 2;
  // Past the horizon, only a phase of the meter's own last reading (not one a merge moved), and
  // no wider than at the horizon: a lock-step pair's clocks differ by a few ppm, not 20.
  const bool own_phase = m.has_last && ref == m.last_at;
  if (age_us > (across_merged_span && own_phase ? kMergedSpanCadences * cadence_us : horizon_us))
    return Phase::Unknown;
  if (age_us < cadence_us / 2) return Phase::NotDue;  // already heard in this cycle
  const std::int64_t k = (age_us + cadence_us / 2) / cadence_us;
  const std::int64_t off_us = age_us - k * cadence_us;
  const double tolerance_us =
      settings_.collision_window_ms * 1000.0 +
      settings_.collision_drift_ppm * 1e-6 * static_cast<double>(std::min(age_us, horizon_us));
  return static_cast<double>(off_us < 0 ? -off_us : off_us) <= tolerance_us ? Phase::Due
                                                                            : Phase::NotDue;
}

namespace {

// Could meter `a`'s frame at `t` lie inside `f` (merge_part.h)? Without a reading, nothing says
// not.
bool may_be_part(const MeterState& a, const protocol::Frame& f, UtcMicros t) {
  if (!a.has_last) return true;
  const std::int64_t dt = std::max<std::int64_t>(0, t - a.last_at);
  return could_be_part(PartBounds{a.last_kwh24, Validator::max_kwh_advance(a.max_power_w, dt),
                                  a.last_peak, a.last_resets, dt / kDisplayCycleUs + 1},
                       f);
}

}  // namespace

std::optional<Validator::Phantom> Validator::collision_phantom(const MeterState* self,
                                                               const Observation& obs) const {
  const protocol::Frame f = obs.frame();
  const std::uint16_t x = f.meter_id.value;
  const UtcMicros t = obs.received_at;
  // A frame far above its meter's own rate looks for parts due within a day of their own last
  // readings, not only within the horizon: a pair drifting through each other is heard on its own
  // by neither meter while their frames overlap, and the byte-aligned merge then arrives alone. (A
  // meter whose load really jumped while a partner went quiet is refused no longer than that.)
  const bool across_merged_span = self && self->has_last && above_own_rate(*self, obs);
  // Known meters due now whose ID bits all lie in x, and whose frame could lie inside this one:
  // the possible parts of a merge carrying x.
  constexpr std::size_t kNamed = Phantom::kMaxParts;
  std::array<std::uint16_t, kNamed> due{};
  std::size_t n_due = 0;
  unsigned or_ids = 0;
  auto consider = [&](std::uint16_t id, const MeterState& a) {
    if (phase_at(a, t, across_merged_span) != Phase::Due || !may_be_part(a, f, t)) return;
    or_ids |= id;
    if (n_due < kNamed) due[n_due++] = id;
  };
  // Only meters whose phase lies within the widest tolerance of t's can be due.
  if (!phase_buckets_.empty()) {
    const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
    const double widest_us =
        settings_.collision_window_ms * 1000.0 +
        settings_.collision_drift_ppm * 1e-6 *
            static_cast<double>((settings_.collision_horizon_cadences + 1) * cadence_us);
    const auto tol_us = static_cast<std::int64_t>(widest_us) + 1;
    const std::int64_t p = (t % cadence_us + cadence_us) % cadence_us;
    auto scan = [&](std::int64_t lo_us, std::int64_t hi_us) {  // within [0, cadence)
      for (std::int64_t b = lo_us / kPhaseBucketUs; b <= hi_us / kPhaseBucketUs; ++b)
        for (std::uint16_t id : phase_buckets_[static_cast<std::size_t>(b)])
          if (id != x && (id & ~x) == 0) consider(id, meters_.at(id));
    };
    if (2 * tol_us >= cadence_us) {
      scan(0, cadence_us - 1);
    } else {
      scan(std::max<std::int64_t>(0, p - tol_us), std::min(cadence_us - 1, p + tol_us));
      if (p - tol_us < 0) scan(p - tol_us + cadence_us, cadence_us - 1);
      if (p + tol_us >= cadence_us) scan(0, p + tol_us - cadence_us);
    }
  }
  if (n_due == 0) return std::nullopt;
  // A known meter is itself a part when it is due too, or its phase is not known yet (its
  // frames so far were all merges): a due meter with a subset ID then collided with it.
  const bool self_part = self && phase_at(*self, t) != Phase::NotDue;
  if (!self_part && or_ids != x) return std::nullopt;
  // Name the parts: the meter itself and one due subset, else a pair that makes x, else all.
  for (std::size_t i = 1; i < n_due; ++i)  // in ID order (a plain loop: GCC 12 misreads sort)
    for (std::size_t j = i; j > 0 && due[j - 1] > due[j]; --j) std::swap(due[j - 1], due[j]);
  std::vector<std::uint16_t> parts;
  if (self_part) {
    parts = {due[0], x};
  } else {
    for (std::size_t i = 0; i < n_due && parts.empty(); ++i)
      for (std::size_t j = i + 1; j < n_due && parts.empty(); ++j)
        if ((due[i] | due[j]) == x) parts = {due[i], due[j]};
    if (parts.empty()) parts.assign(due.begin(), due.begin() + static_cast<std::ptrdiff_t>(n_due));
  }
  // Corroboration: the merge's reset counter is the OR of the parts' counters (unless one
  // had a demand reset since its last reading).
  unsigned or_resets = 0;
  bool resets_known = true;
  for (std::uint16_t id : parts) {
    const MeterState* a = id == x ? self : &meters_.at(id);
    if (!a->has_last) {
      resets_known = false;
      break;
    }
    or_resets |= a->last_resets;
  }
  std::string ids = fmt::format("{}", parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i) ids += fmt::format(" | {}", parts[i]);
  std::string resets =
      !resets_known
          ? ""
          : fmt::format("; reset counter {} {} the OR of theirs ({})", f.demand_resets.value,
                        f.demand_resets.value == or_resets ? "is" : "is not", or_resets);
  Phantom p{Check{RejectReason::CollisionPhantom,
                  fmt::format("ID {} = {}: meters due at this moment (lock-step collision){}", x,
                              ids, resets)},
            due, n_due};
  return p;
}

std::optional<Validator::Phantom> Validator::merge_of_known(const Observation& obs) const {
  const protocol::Frame f = obs.frame();
  const std::uint16_t x = f.meter_id.value;
  std::vector<const MeterState*> subs;
  for (const auto& [id, a] : meters_)
    if (id != x && (id & ~x) == 0 && a.has_last && phase_at(a, obs.received_at) != Phase::NotDue &&
        a.last_peak <= f.peak_demand.value && a.last_kwh24 <= f.total_kwh.value &&
        (a.last_resets & ~f.demand_resets.value) == 0)
      subs.push_back(&a);
  // In ID order: the pair named does not depend on the map's order (restarts change nothing).
  std::sort(subs.begin(), subs.end(),
            [](const MeterState* a, const MeterState* b) { return a->id < b->id; });
  for (std::size_t i = 0; i < subs.size(); ++i)
    for (std::size_t j = i + 1; j < subs.size(); ++j) {
      const MeterState& a = *subs[i];
      const MeterState& b = *subs[j];
      if ((a.id | b.id) != x || (a.last_resets | b.last_resets) != f.demand_resets.value) continue;
      Phantom p{Check{RejectReason::CollisionPhantom,
                      fmt::format("ID {} = {} | {}, reset counter {} = {} | {}: a merge of two "
                                  "known meters not heard elsewhere in this cycle",
                                  x, std::min(a.id, b.id), std::max(a.id, b.id),
                                  f.demand_resets.value, a.last_resets, b.last_resets)},
                {},
                2,
                false};
      p.parts[0] = std::min(a.id, b.id);
      p.parts[1] = std::max(a.id, b.id);
      return p;
    }
  return std::nullopt;
}

std::optional<std::string> Validator::corrupted_id_of_known(const Observation& obs) const {
  // At a bit error rate of 1e-3, the same flipped ID bit in two consecutive frames of one of
  // 32 meters happens a few times a month (276,000 pairs x 16 bits x 1e-6), and two
  // consistent frames confirm a new ID: a phantom at the meter's own phase, which then made
  // the meter's true frames look like merges with it. The frame is the meter's when the meter
  // is due and the frame continues its last reading: a new meter would collide with it.
  const protocol::Frame f = obs.frame();
  const std::uint16_t x = f.meter_id.value;
  for (int i = 0; i < 16; ++i)
    for (int j = i; j < 16; ++j) {  // j == i: one bit
      const auto id = static_cast<std::uint16_t>(x ^ (1U << i) ^ (j == i ? 0U : 1U << j));
      const auto it = meters_.find(id);
      if (it == meters_.end()) continue;
      const MeterState& k = it->second;
      if (!k.has_last || phase_at(k, obs.received_at) != Phase::Due) continue;
      if (check(k.last_kwh24, k.last_peak, k.last_resets, k.last_at, f, obs.received_at,
                k.max_power_w))
        continue;
      return fmt::format(
          "ID {} is meter {} with {} bit(s) flipped: {} is due now, not heard in this cycle, "
          "and the frame continues its last reading",
          x, id, j == i ? 1 : 2, id);
    }
  return std::nullopt;
}

bool Validator::above_own_rate(const MeterState& m, const Observation& obs) const {
  // The rate of the readings remembered (up to kHistory, the last one included): four times
  // it, plus two for the register's quantisation at each end, bounds the rise of a meter whose
  // load did not change much. An OR adds the partner's bits: 10388 -> 10500 | 3273 = 11725 on
  // 61414, +1,337 where its readings rose 10 kWh in 7 cadences and the bound after 34 is 196.
  constexpr std::int64_t kRateFactor = 4;
  constexpr std::int64_t kSlackKwh = 2;
  const std::int64_t dt = obs.received_at - m.last_at;
  if (m.history_len < 3 || dt <= 0) return false;
  const auto& first = m.history[0];
  const auto& last = m.history[m.history_len - 1];
  const std::int64_t span = last.at - first.at;
  if (span <= 0) return false;
  const std::int64_t rise =
      static_cast<std::int64_t>((obs.frame().total_kwh.value - m.last_kwh24) & Kwh24::kMask);
  // rise > factor x (own rise / span) x dt + slack, exact in 128 bits.
  const std::int64_t own = last.total_kwh - first.total_kwh;
  return rise > kSlackKwh &&
         u128(rise - kSlackKwh) * u128(span) >
             u128(kRateFactor) * u128(std::max<std::int64_t>(own, 0)) * u128(dt);
}

void Validator::reject_phantom(const MeterState* self, const Observation& obs, Phantom p,
                               Decisions& out) {
  // The merge is evidence that its parts transmitted at this moment: their phases move here,
  // so a run of clean merges longer than the horizon stays recognised. Not when the frame
  // continues the meter's own readings (it may be its true frame next to a meter that went
  // quiet: then the horizon still ends the rejections).
  const bool merged_look = !self || !self->has_last || check_against_last(*self, obs).has_value();
  if (merged_look) {
    for (std::size_t i = 0; i < p.n_parts; ++i) {
      MeterState& a = meters_.at(p.parts[i]);
      // A merge told by its bytes does not say when a part whose phase was lost sends: moved
      // there, a false one (BER 1e-3: 18086 = 17030 | 18084) put 17030's phase on 31694's,
      // whose true frames were then refused, and 17030's own merges went unrecognised.
      if (!p.timed && phase_at(a, obs.received_at) != Phase::Due) continue;
      if (!a.merged_at || *a.merged_at < obs.received_at) a.merged_at = obs.received_at;
      place(a);
      out.state_changed.push_back(a.id);
    }
  }
  reject(obs, p.check.reason, std::move(p.check.detail), out);
}

void Validator::process(const Observation& obs, Decisions& out) {
  const protocol::Frame f = obs.frame();
  out.state_changed.push_back(f.meter_id.value);
  auto it = meters_.find(f.meter_id.value);
  // A meter silent longer than the silent span is silent before its next frame counts,
  // whenever the sweep last ran: the decision does not depend on when a run started.
  if (it != meters_.end() && it->second.has_last && !it->second.silent &&
      obs.received_at - it->second.last_at > silent_us())
    mark_silent(it->second, out);
  if (it == meters_.end()) {
    process_unknown(obs, out);
    if (auto m = meters_.find(f.meter_id.value); m != meters_.end()) arm(m->second);
    return;
  }
  MeterState& m = it->second;
  if (obs.alone() && settings_.collision_window_ms > 0) {
    if (auto p = collision_phantom(&m, obs)) {
      reject_phantom(&m, obs, std::move(*p), out);
      return;
    }
  }
  process_known(m, obs, out);
  place(m);
  arm(m);
}

void Validator::process_known(MeterState& m, const Observation& obs, Decisions& out) {
  if (!m.has_last) {
    // A registered meter's first reading starts its epoch, and a frame from a shared burst
    // never starts an epoch: it waits (pending) for a frame alone in its burst.
    if (obs.alone()) {
      anchor(m, obs, out);
      return;
    }
    if (m.unanchored.size() >= MeterState::kMaxUnanchored) {
      const Observation old = m.unanchored.front();
      m.unanchored.erase(m.unanchored.begin());
      out.released.push_back(old.frame_id);
      reject(old, RejectReason::HeldNotConfirmed,
             fmt::format("first frames from shared bursts: no frame alone in its burst within {}",
                         MeterState::kMaxUnanchored),
             out);
    }
    m.unanchored.push_back(obs);
    out.held.push_back(obs.frame_id);
    return;
  }

  if (m.decider) {
    if (m.held_suspect)
      resolve_decider(m, obs, out);
    else
      resolve_epoch(m, obs, out);
    return;
  }
  const auto c = check_against_last(m, obs);
  if (m.held && m.held_suspect) {
    resolve_suspect(m, obs, c, out);
    return;
  }
  if (m.held) {
    resolve_contradiction(m, obs, c, out);
    return;
  }
  decide_free(m, obs, c, out);
}

void Validator::resolve_contradiction(MeterState& m, const Observation& obs,
                                      const std::optional<Check>& c, Decisions& out,
                                      bool may_defer) {
  const protocol::Frame f = obs.frame();
  const Observation h = *m.held;
  if (!c) {
    if (kwh_off_the_line(m, h, obs)) {
      release_held(m, out);
      retract_last(m, h, obs, m.held_detail + "; its kWh is off the line of the frames around it",
                   out);
      return;
    }
    // The old state goes on: the held frame was wrong.
    release_held(m, out);
    reject(h, m.held_reason, m.held_detail + "; the next frame agreed with the last reading", out);
    decide_free(m, obs, c, out);
    return;
  }
  if (!obs.alone()) {
    if (shared_repeats_held(m, h, obs, *c)) {
      release_held(m, out);
      retract_last(m, h, obs, m.held_detail + "; a shared frame continues it", out);
      return;
    }
    reject(obs, c->reason, c->detail + " (shared burst)", out);
    return;
  }
  const protocol::Frame hf = h.frame();
  const auto ch = check(hf.total_kwh.value, hf.peak_demand.value, hf.demand_resets.value,
                        h.received_at, f, obs.received_at, m.max_power_w);
  // Do both agree with the reading before the last one? Then the last one was a one-off
  // corrupted frame (a bit error or a merge that looked plausible): retract it. Not when the
  // held frame's peak needs more energy than the meter's readings hold: that bound does not
  // depend on the last reading, so the held frame is wrong whichever reading it follows (BER
  // 1e-3, 256 meters: meter 7631's peak 0x5cf read 0xdcf, then its counter 0 read 1; the true
  // reading before them was retracted for them, 47 times in the cell).
  const bool before_last = !ch && m.prev_reading && m.held_reason != RejectReason::PeakTooHigh &&
                           !from_before_last(m, h);
  const char* two_errors = !ch && !before_last ? two_peaks_below(m, h, obs) : nullptr;
  if (!ch && !before_last && !two_errors && may_defer) {
    // A new meter at this ID, or the same bit flipped in both frames: the frame after them
    // decides (`resolve_epoch`).
    m.decider = obs;
    out.held.push_back(obs.frame_id);
    return;
  }
  if (ch && may_defer && noise_after_lowered(m, h, obs)) {
    reject(obs, c->reason,
           fmt::format("{}; it contradicts held frame {} too, which waits for the next frame",
                       c->detail, h.frame_id),
           out);
    return;
  }
  release_held(m, out);
  if (before_last) {
    retract_last(m, h, obs, m.held_detail, out);
    return;
  }
  if (!ch) {
    if (two_errors) {
      reject(h, m.held_reason, m.held_detail + "; " + two_errors, out);
      hold(m, obs, *c, out);
      return;
    }
    // Two frames, each alone, agree with each other and not with the old state: a new
    // meter (or register) at this ID. A new epoch, audited. Unless the old state is the epoch's
    // first reading, which no frame continued: a meter replaced within minutes of being first
    // heard is far rarer than a bit error in its first frame (BER 1e-3, 256 meters: 4412's 4
    // kWh read 262,148, 55932's peak 0 read 0x400; 10 false `replaced` a month).
    if (m.history_len == 1 && m.last_reading && !m.prev_reading) {
      retract_first(m, h, obs, out);
      return;
    }
    start_epoch(m, h, out, true, to_string(m.held_reason));
    accept(m, obs, out);
    return;
  }
  reject(h, m.held_reason, m.held_detail + "; the next frame agreed with neither", out);
  hold(m, obs, *c, out);
  return;
}

namespace {

// The held frame `hf` and the frame after it `f` both carry the last reading's peak and counter.
bool only_kwh_moved(const Reading& last, const protocol::Frame& hf, const protocol::Frame& f) {
  return hf.peak_demand.value == last.peak_demand_counts &&
         hf.demand_resets.value == last.demand_resets &&
         f.peak_demand.value == last.peak_demand_counts &&
         f.demand_resets.value == last.demand_resets;
}

}  // namespace

const char* Validator::two_peaks_below(const MeterState& m, const Observation& h,
                                       const Observation& obs) const {
  // The held frame's peak fell below the last reading's with its counter, which a meter's peak
  // never does without a demand reset, and the next frame continues it at another peak. A new
  // meter at this ID would repeat its own peak from one frame to the next: two bit errors in
  // a row are likelier (BER 1e-3, 256 meters: meter 698's 0x255 read 0x251, then 0x254; 102 of
  // 166 false `replaced` for a fallen peak). The held frame is rejected; the next frame is held
  // in its place.
  // Only below a peak the reading before the last had too: a meter's first reading may be the
  // error (32 meters, BER 1e-3: 0x000 read 0x200 first, then the true 0x000, 0x0b1, 0x0c2...).
  const std::uint16_t hp = h.frame().peak_demand.value;
  if (m.held_reason != RejectReason::PeakFell || hp == obs.frame().peak_demand.value ||
      !m.prev_reading || m.prev_reading->peak_demand_counts <= hp)
    return nullptr;
  return "the next frame continues it at another peak (two bit errors, not a new meter)";
}

bool Validator::kwh_off_the_line(const MeterState& m, const Observation& h,
                                 const Observation& obs) const {
  if (m.held_reason != RejectReason::KwhBackwards || !obs.alone() || !m.prev_reading ||
      !m.last_reading)
    return false;
  const protocol::Frame hf = h.frame();
  const protocol::Frame f = obs.frame();
  const Reading& last = *m.last_reading;
  const Reading& p = *m.prev_reading;
  if (!only_kwh_moved(last, hf, f)) return false;
  if (check(p.kwh24, p.peak_demand_counts, p.demand_resets, p.received_at, hf, h.received_at,
            m.max_power_w) ||
      check(hf.total_kwh.value, hf.peak_demand.value, hf.demand_resets.value, h.received_at, f,
            obs.received_at, m.max_power_w))
    return false;
  return last_is_off_the_line({p.received_at, p.kwh24}, {last.received_at, last.kwh24},
                              {h.received_at, hf.total_kwh.value},
                              {obs.received_at, f.total_kwh.value}) ||
         steady_load_tells(m, h, obs);
}

// Within a kWh of the line both stories fit it (a register raised by 1 and a true frame back by
// 1, the next frame one tick on). A steady load tells them apart by when the register ticks:
// the meter's remembered readings of this epoch, then the held frame and the next, fit one rate
// and offset; with the last reading in the held frame's place they do not (BER 1e-3, 256
// meters: 69 true frames rejected so; e.g. meter 33928's 1520 ticked to 1521 one cadence early).
bool Validator::steady_load_tells(const MeterState& m, const Observation& h,
                                  const Observation& obs) const {
  const std::size_t n = m.history_len;
  if (n < 3 || m.history[n - 1].at != m.last_at) return false;  // the last reading is newest
  const Reading& p = *m.prev_reading;
  std::array<KwhTotal, MeterState::kHistory + 1> pts{};
  for (std::size_t i = 0; i + 1 < n; ++i) pts[i] = {m.history[i].at, m.history[i].total_kwh};
  const std::int64_t h_total = p.total_kwh + h.frame().total_kwh.advance_since(Kwh24{p.kwh24});
  pts[n - 1] = {h.received_at, h_total};
  pts[n] = {obs.received_at, h_total + obs.frame().total_kwh.advance_since(h.frame().total_kwh)};
  const std::span<const KwhTotal> all(pts.data(), n + 1);
  if (!one_steady_load(all)) return false;
  pts[n - 1] = {m.last_at, m.last_total_kwh};
  return !one_steady_load(all);
}

bool Validator::noise_after_lowered(const MeterState& m, const Observation& h,
                                    const Observation& obs) const {
  // The held frame went back from the last reading in kWh alone and continues the reading
  // before it: the last reading may be the raised one, which only the frame after can tell
  // ("kWh off the line"). A frame alone that contradicts both is noise: it is rejected, and
  // the held frame waits on, up to three cadences (BER 1e-3, 256 meters: meter 28861's 1192
  // read 1194, the true 1193 was held, then 1196 read 1192; the true 1193 was rejected and the
  // raised 1194 stayed, 56 times in the cell).
  if (m.held_reason != RejectReason::KwhBackwards || !obs.alone() || !h.alone() ||
      !m.prev_reading || !m.last_reading ||
      obs.received_at - h.received_at > 3 * settings_.cadence_s * kMicrosPerSecond)
    return false;
  return kwh_back_to_prev(m, h);
}

bool Validator::kwh_back_to_prev(const MeterState& m, const Observation& o) const {
  const protocol::Frame f = o.frame();
  const Reading& p = *m.prev_reading;
  return only_kwh_moved(*m.last_reading, f, f) &&
         !check(p.kwh24, p.peak_demand_counts, p.demand_resets, p.received_at, f, o.received_at,
                m.max_power_w);
}

bool Validator::shared_repeats_held(const MeterState& m, const Observation& h,
                                    const Observation& obs, const Check& c) const {
  // A merge only sets bits: a shared frame after a true last reading is never below it. One
  // below the last reading that continues the held frame (itself back from the last reading,
  // and plausible after the reading before) tells that the last reading was raised, as a frame
  // alone would, hours sooner on a meter whose frames share their burst. An overlapped frame
  // may end in a neighbour's head: it is not evidence.
  if (c.reason != RejectReason::KwhBackwards || m.held_reason != RejectReason::KwhBackwards ||
      obs.burst != protocol::Burst::Shared || !m.prev_reading || !m.last_reading)
    return false;
  const protocol::Frame hf = h.frame();
  const protocol::Frame f = obs.frame();
  const Reading& p = *m.prev_reading;
  return only_kwh_moved(*m.last_reading, hf, f) &&
         !check(p.kwh24, p.peak_demand_counts, p.demand_resets, p.received_at, hf, h.received_at,
                m.max_power_w) &&
         !check(hf.total_kwh.value, hf.peak_demand.value, hf.demand_resets.value, h.received_at, f,
                obs.received_at, m.max_power_w);
}

bool Validator::shared_back_to_prev(const MeterState& m, const Observation& obs,
                                    const Check& c) const {
  // A merge only sets bits, so a shared frame below the last reading is a true frame after a
  // raised reading, or another meter's bytes carrying this ID. Held, it is judged by the frame
  // after it as a frame alone would be (a shared frame that continues it retracts the reading:
  // `shared_repeats_held`); an overlapped frame may end in a neighbour's head: not evidence.
  if (c.reason != RejectReason::KwhBackwards || obs.burst != protocol::Burst::Shared ||
      !m.prev_reading || !m.last_reading)
    return false;
  return kwh_back_to_prev(m, obs);
}

void Validator::withdraw_last(const MeterState& m, const Observation& obs, std::string detail,
                              Decisions& out) {
  const Reading bad = *m.last_reading;
  out.retracted.push_back(bad);
  out.rejections.push_back(
      Rejection{bad.frame_id, m.id, RejectReason::Retracted, std::move(detail)});
  out.events.push_back(Event{obs.received_at, EventKind::Retracted, m.id, obs.source_id,
                             EventDetail{}
                                 .add("frame_id", bad.frame_id)
                                 .add("received_at_us", bad.received_at)
                                 .add("total_kwh", bad.total_kwh)
                                 .add("reason", to_string(m.held_reason))});
}

void Validator::retract_first(MeterState& m, const Observation& h, const Observation& obs,
                              Decisions& out) {
  withdraw_last(m, obs,
                fmt::format("the epoch's first reading, contradicted by frames {} and {}, which "
                            "agree with each other ({})",
                            h.frame_id, obs.frame_id, to_string(m.held_reason)),
                out);
  start_epoch(m, h, out, false, "");
  accept(m, obs, out);
}

void Validator::retract_last(MeterState& m, const Observation& h, const Observation& obs,
                             const std::string& why, Decisions& out) {
  drop_last(m, obs,
            fmt::format("contradicted by frames {} and {}, which agree with frame {} ({})",
                        h.frame_id, obs.frame_id, m.prev_reading->frame_id, why),
            out);
  accept(m, h, out);
  if (obs.alone())
    accept(m, obs, out);
  else
    decide_free(m, obs, check_against_last(m, obs), out);  // a changed kWh waits (suspect)
}

void Validator::drop_last(MeterState& m, const Observation& obs, std::string detail,
                          Decisions& out) {
  const Reading p = *m.prev_reading;
  withdraw_last(m, obs, std::move(detail), out);
  m.last_at = p.received_at;
  m.last_total_kwh = p.total_kwh;
  m.last_kwh24 = p.kwh24;
  m.last_peak = p.peak_demand_counts;
  m.last_resets = p.demand_resets;
  m.last_reading = p;
  m.prev_reading.reset();
  if (m.history_len > 0) --m.history_len;  // the retracted reading was the newest
}

std::optional<Validator::Check> Validator::suspect(const MeterState& m,
                                                   const Observation& obs) const {
  const protocol::Frame f = obs.frame();
  if (f.demand_resets.value != m.last_resets)
    return Check{RejectReason::HeldNotConfirmed,
                 fmt::format("reset counter {} -> {} awaits the next frame", m.last_resets,
                             f.demand_resets.value)};
  if (f.peak_demand.value > m.last_peak)
    return Check{RejectReason::HeldNotConfirmed,
                 fmt::format("peak demand {} -> {} counts awaits the next frame", m.last_peak,
                             f.peak_demand.value)};
  if (!obs.alone() && f.total_kwh.value != m.last_kwh24)
    return Check{RejectReason::HeldNotConfirmed,
                 fmt::format("kWh {} -> {} from a shared burst awaits the next frame", m.last_kwh24,
                             f.total_kwh.value)};
  // An unregistered meter is judged against the largest power any model has, at which a set kWh
  // bit is plausible: a rise far above its own rate waits for the next frame (BER 1e-3, 256
  // meters, no registry: 18 more true frames recovered). A registered
  // meter's model bounds it already (such a bit is `kwh_too_fast`).
  if (!m.registered && above_own_rate(m, obs))
    return Check{RejectReason::HeldNotConfirmed,
                 fmt::format("kWh {} -> {}, far above the meter's own rate, awaits the next frame",
                             m.last_kwh24, f.total_kwh.value)};
  return std::nullopt;
}

void Validator::decide_free(MeterState& m, const Observation& obs, const std::optional<Check>& c,
                            Decisions& out) {
  if (!c) {
    if (auto s = suspect(m, obs)) {
      hold(m, obs, *s, out);
      m.held_suspect = true;
    } else {
      accept(m, obs, out);
    }
  } else if (obs.alone() || shared_back_to_prev(m, obs, *c)) {
    hold(m, obs, *c, out);
  } else {
    reject(obs, c->reason, c->detail + " (shared burst)", out);
  }
}

void Validator::release_held(MeterState& m, Decisions& out) {
  out.released.push_back(m.held->frame_id);
  m.held.reset();
  m.held_suspect = false;
  m.shared_chain.clear();
}

void Validator::anchor(MeterState& m, const Observation& obs, Decisions& out) {
  // The first frame alone in its burst (not a collision phantom) is the first reading. The
  // frames from shared bursts before it become readings when they chain back from it: each
  // one cadence or a few before the next chained frame (a meter sends every cadence; a gap of
  // more than `silent_after_cadences` breaks the chain) and plausible before it. A merge
  // carrying the ID (OR-ed fields: kWh, peak or counter above the true ones) contradicts the
  // true frame after it; over a long gap plausibility is too weak to tell, so none is taken.
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  const std::int64_t max_gap_us = settings_.silent_after_cadences * cadence_us + cadence_us / 2;
  std::vector<Observation> chain;  // newest first
  Observation next = obs;
  for (auto it = m.unanchored.rbegin(); it != m.unanchored.rend(); ++it) {
    const Observation& h = *it;
    out.released.push_back(h.frame_id);
    const protocol::Frame hf = h.frame();
    const std::int64_t gap_us = next.received_at - h.received_at;
    std::string why;
    if (gap_us > max_gap_us) {
      why = fmt::format("more than {} cadences before frame {}", settings_.silent_after_cadences,
                        next.frame_id);
    } else if (gap_us < cadence_us / 2) {
      why = fmt::format("in the same cycle as frame {}", next.frame_id);
    } else if (static_cast<std::int64_t>(hf.peak_demand.watts()) >
               m.max_power_w + m.max_power_w / 4) {
      why = fmt::format("peak demand {} counts above {} W", hf.peak_demand.value, m.max_power_w);
    } else if (auto c = check(hf.total_kwh.value, hf.peak_demand.value, hf.demand_resets.value,
                              h.received_at, next.frame(), next.received_at, m.max_power_w)) {
      why = fmt::format("frame {} after it: {}", next.frame_id, c->detail);
    } else {
      chain.push_back(h);
      next = h;
      continue;
    }
    reject(h, RejectReason::HeldNotConfirmed,
           fmt::format("first frame from a shared burst, not chained to frame {} (the first alone "
                       "in its burst): {}",
                       obs.frame_id, why),
           out);
  }
  m.unanchored.clear();
  if (chain.empty()) {
    start_epoch(m, obs, out, false, "");
    return;
  }
  start_epoch(m, chain.back(), out, false, "");
  for (auto it = std::next(chain.rbegin()); it != chain.rend(); ++it) accept(m, *it, out);
  accept(m, obs, out);
}

void Validator::drop_candidate(Candidate& c, Decisions& out) {
  for (const auto& o : c.chain) {
    out.released.push_back(o.frame_id);
    reject(o, RejectReason::Unconfirmed,
           fmt::format("unknown meter ID seen {} time(s), {} consistent frames needed",
                       c.chain.size(), settings_.confirm_frames),
           out);
  }
  c.chain.clear();
}

void Validator::process_unknown(const Observation& obs, Decisions& out) {
  const protocol::Frame f = obs.frame();
  if (!obs.alone()) {
    hold_shared_unknown(obs, out);
    return;
  }
  expire_shared_unknown(f.meter_id.value, obs.received_at, out);
  if (settings_.collision_window_ms > 0) {
    if (auto p = collision_phantom(nullptr, obs)) {
      reject_phantom(nullptr, obs, std::move(*p), out);
      return;
    }
    if (auto p = merge_of_known(obs)) {
      reject_phantom(nullptr, obs, std::move(*p), out);
      return;
    }
    if (auto why = corrupted_id_of_known(obs)) {
      reject(obs, RejectReason::CorruptedId, std::move(*why), out);
      return;
    }
  }
  const std::int64_t stale_us =
      settings_.cadence_s * settings_.silent_after_cadences * kMicrosPerSecond;
  auto& cands = provisional_[f.meter_id.value];
  for (auto& c : cands)
    if (obs.received_at - c.chain.back().received_at > stale_us) drop_candidate(c, out);
  std::erase_if(cands, [](const Candidate& c) { return c.chain.empty(); });

  Candidate* match = nullptr;
  for (auto it = cands.rbegin(); it != cands.rend() && !match; ++it) {
    const Observation& last = it->chain.back();
    const protocol::Frame lf = last.frame();
    if (!check(lf.total_kwh.value, lf.peak_demand.value, lf.demand_resets.value, last.received_at,
               f, obs.received_at, settings_.default_max_power_w))
      match = &*it;
  }
  if (!match) {
    if (cands.size() >= kMaxCandidatesPerId) {
      drop_candidate(cands.front(), out);
      cands.erase(cands.begin());
    }
    cands.push_back(Candidate{});
    match = &cands.back();
  }
  match->chain.push_back(obs);
  if (match->chain.size() < static_cast<std::size_t>(settings_.confirm_frames)) {
    out.held.push_back(obs.frame_id);
    arm_candidate(f.meter_id.value, obs.received_at);
    return;
  }
  // Confirmed: the meter is known from now on; its consistent frames become readings.
  std::vector<Observation> chain = std::move(match->chain);
  match->chain.clear();
  for (auto& c : cands)
    if (!c.chain.empty()) drop_candidate(c, out);
  provisional_.erase(f.meter_id.value);
  MeterState& m = meters_[f.meter_id.value];
  m.id = f.meter_id.value;
  m.registered = false;
  m.max_power_w = settings_.default_max_power_w;
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) out.released.push_back(chain[i].frame_id);
  const std::vector<Observation> seq = with_shared_frames(chain, out);
  start_epoch(m, seq.front(), out, false, "");
  for (std::size_t i = 1; i < seq.size(); ++i) accept(m, seq[i], out);
  place(m);
}

void Validator::hold_shared_unknown(const Observation& obs, Decisions& out) {
  const std::uint16_t id = obs.frame().meter_id.value;
  expire_shared_unknown(id, obs.received_at, out);
  auto& frames = shared_unknown_[id];
  if (frames.size() >= kMaxSharedUnknown) {
    out.released.push_back(frames.front().frame_id);
    reject(frames.front(), RejectReason::SharedUnknown,
           fmt::format("unknown meter ID from a shared burst, not confirmed within {} frames",
                       kMaxSharedUnknown),
           out);
    frames.erase(frames.begin());
  }
  frames.push_back(obs);
  out.held.push_back(obs.frame_id);
  arm_candidate(id, obs.received_at);
}

void Validator::expire_shared_unknown(std::uint16_t id, UtcMicros now, Decisions& out) {
  auto it = shared_unknown_.find(id);
  if (it == shared_unknown_.end() || now - it->second.back().received_at <= silent_us()) return;
  for (const auto& o : it->second) {
    out.released.push_back(o.frame_id);
    reject(o, RejectReason::SharedUnknown,
           fmt::format("unknown meter ID from a shared burst, not confirmed within {} cadences",
                       settings_.silent_after_cadences),
           out);
  }
  shared_unknown_.erase(it);
}

std::vector<Observation> Validator::with_shared_frames(const std::vector<Observation>& chain,
                                                       Decisions& out) {
  const std::uint16_t id = chain.back().frame().meter_id.value;
  auto it = shared_unknown_.find(id);
  if (it == shared_unknown_.end()) return chain;
  std::vector<Observation> shared = std::move(it->second);
  shared_unknown_.erase(it);
  // Walking back from the newest confirmed frame: a shared frame fits when it lies between
  // half a cadence and `silent_after_cadences` + half a cadence before the frame after it,
  // repeats that frame's peak and reset counter (a merge or a bit error changes them; only
  // the frames alone in their bursts confirm a change), and is plausible before it and after
  // the confirmed frame before it.
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  const std::int64_t max_gap_us = settings_.silent_after_cadences * cadence_us + cadence_us / 2;
  const std::int64_t w = settings_.default_max_power_w;
  std::vector<Observation> seq;  // newest first
  std::size_t c = chain.size();  // chain[c - 1]: the newest confirmed frame not yet taken
  auto s = shared.rbegin();
  while (c > 0 || s != shared.rend()) {
    if (s == shared.rend() || (c > 0 && chain[c - 1].received_at >= s->received_at)) {
      seq.push_back(chain[--c]);
      continue;
    }
    const Observation& x = *s++;
    out.released.push_back(x.frame_id);
    if (seq.empty()) {  // after the newest confirmed frame: cannot happen (it is the newest)
      reject(x, RejectReason::SharedUnknown, "unknown meter ID from a shared burst", out);
      continue;
    }
    const Observation& next = seq.back();
    const protocol::Frame xf = x.frame();
    const protocol::Frame nf = next.frame();
    const std::int64_t gap_us = next.received_at - x.received_at;
    const bool fits = gap_us >= cadence_us / 2 && gap_us <= max_gap_us &&
                      xf.peak_demand.value == nf.peak_demand.value &&
                      xf.demand_resets.value == nf.demand_resets.value &&
                      !check(xf.total_kwh.value, xf.peak_demand.value, xf.demand_resets.value,
                             x.received_at, nf, next.received_at, w) &&
                      (c == 0 || (x.received_at - chain[c - 1].received_at >= cadence_us / 2 &&
                                  !check(chain[c - 1].frame().total_kwh.value,
                                         chain[c - 1].frame().peak_demand.value,
                                         chain[c - 1].frame().demand_resets.value,
                                         chain[c - 1].received_at, xf, x.received_at, w)));
    if (fits) {
      seq.push_back(x);
    } else {
      reject(x, RejectReason::SharedUnknown,
             fmt::format("unknown meter ID from a shared burst, not fitting the frames that "
                         "confirmed it (frame {} after it)",
                         next.frame_id),
             out);
    }
  }
  std::reverse(seq.begin(), seq.end());
  return seq;
}

std::vector<std::vector<Observation>> Validator::candidates(std::uint16_t id) const {
  std::vector<std::vector<Observation>> out;
  if (auto it = provisional_.find(id); it != provisional_.end())
    for (const auto& c : it->second)
      if (!c.chain.empty()) out.push_back(c.chain);
  return out;
}

std::vector<std::uint16_t> Validator::provisional_id_list() const {
  std::vector<std::uint16_t> ids;
  for (const auto& [id, cands] : provisional_) ids.push_back(id);
  for (const auto& [id, frames] : shared_unknown_)
    if (!provisional_.contains(id)) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<Observation> Validator::shared_unknown(std::uint16_t id) const {
  auto it = shared_unknown_.find(id);
  return it == shared_unknown_.end() ? std::vector<Observation>{} : it->second;
}

void Validator::restore_shared_unknown(std::uint16_t id, const std::vector<Observation>& frames) {
  if (frames.empty()) {
    shared_unknown_.erase(id);
    return;
  }
  shared_unknown_[id] = frames;
  arm_candidate(id, frames.back().received_at);
}

void Validator::restore_candidates(std::uint16_t id,
                                   const std::vector<std::vector<Observation>>& chains) {
  auto& cands = provisional_[id];
  cands.clear();
  for (const auto& chain : chains) {
    if (chain.empty()) continue;
    cands.push_back(Candidate{chain});
    arm_candidate(id, chain.back().received_at);
  }
  if (cands.empty()) provisional_.erase(id);
}

void Validator::mark_silent(MeterState& m, Decisions& out) {
  m.silent = true;
  out.state_changed.push_back(m.id);
  out.events.push_back(Event{m.last_at + silent_us(), EventKind::Silent, m.id, std::nullopt,
                             EventDetail{}
                                 .add("last_reading_at_us", m.last_at)
                                 .add("after_s", silent_us() / kMicrosPerSecond)});
  out.meters_changed.push_back(m.id);
}

void Validator::expire_candidates(std::uint16_t id, UtcMicros now, Decisions& out) {
  out.state_changed.push_back(id);
  expire_shared_unknown(id, now, out);
  auto it = provisional_.find(id);
  if (it == provisional_.end()) return;
  for (auto& c : it->second)
    if (now - c.chain.back().received_at > silent_us()) drop_candidate(c, out);
  std::erase_if(it->second, [](const Candidate& c) { return c.chain.empty(); });
  if (it->second.empty()) provisional_.erase(it);
}

void Validator::arm(const MeterState& m) {
  if (m.has_last && !m.silent) silent_due_.emplace(m.last_at + silent_us(), m.id);
}

void Validator::arm_candidate(std::uint16_t id, UtcMicros last_frame_at) {
  candidate_due_.emplace(last_frame_at + silent_us(), id);
}

void Validator::sweep(UtcMicros now, Decisions& out) {
  // A meter is silent when now - last_at > silent_us, i.e. its deadline lies before now.
  while (!silent_due_.empty() && silent_due_.top().first < now) {
    const auto [due, id] = silent_due_.top();
    silent_due_.pop();
    auto it = meters_.find(id);
    if (it == meters_.end()) continue;
    MeterState& m = it->second;
    // Stale entries (the meter read again since, or already silent) are skipped.
    if (m.has_last && !m.silent && m.last_at + silent_us() == due) mark_silent(m, out);
  }
  while (!candidate_due_.empty() && candidate_due_.top().first < now) {
    const std::uint16_t id = candidate_due_.top().second;
    candidate_due_.pop();
    expire_candidates(id, now, out);
  }
}

void Validator::sweep_all(UtcMicros now, Decisions& out) {
  for (auto& [id, m] : meters_)
    if (m.has_last && !m.silent && now - m.last_at > silent_us()) mark_silent(m, out);
  std::vector<std::uint16_t> ids;
  for (const auto& [id, cands] : provisional_) ids.push_back(id);
  for (const auto& [id, frames] : shared_unknown_)
    if (!provisional_.contains(id)) ids.push_back(id);
  for (std::uint16_t id : ids) expire_candidates(id, now, out);
}

}  // namespace imsm::collector
