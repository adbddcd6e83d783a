// Held frames decided with hindsight (docs/collector.md "Hindsight", "Second lookahead"): a
// held suspect frame and the shared frames chained after it, decided by the meter's next frames.
#include <fmt/format.h>

#include <algorithm>

#include "collector/validate/kwh_line.h"
#include "collector/validate/validator.h"

namespace imsm::collector {

namespace {
// A reset counter that went from `from` at `from_at` to `to` at `to_at` by at most one key turn
// a cadence (the 19 s bound, guide 3.8, allows 16 in 5 minutes; a key turned that often is
// rarer than a bit error).
bool counter_steps(std::uint8_t from, UtcMicros from_at, std::uint8_t to, UtcMicros to_at,
                   std::int64_t cadence_us) {
  const unsigned d = static_cast<std::uint8_t>(to - from);
  const std::int64_t dt = std::max<std::int64_t>(0, to_at - from_at);
  return static_cast<std::int64_t>(d) <= 1 + dt / cadence_us;
}

// `b` continues `a` as the meter's next frame confirming it: plausible after it, and its reset
// counter repeats `a`'s or advances by at most one per cadence between them (a held counter
// change is confirmed by the frames that repeat it; over a long gap the 19 s bound alone would
// read a counter that went back by a little as a large advance).
bool continues(const Observation& a, const Observation& b, std::int64_t max_power_w,
               std::int64_t cadence_us) {
  const protocol::Frame af = a.frame();
  const protocol::Frame bf = b.frame();
  if (Validator::check(af.total_kwh.value, af.peak_demand.value, af.demand_resets.value,
                       a.received_at, bf, b.received_at, max_power_w))
    return false;
  return counter_steps(af.demand_resets.value, a.received_at, bf.demand_resets.value, b.received_at,
                       cadence_us);
}
}  // namespace

std::size_t Validator::chain_kept_by(const MeterState& m, const Observation& obs) const {
  // How many of the chain's frames stay when `obs` is the meter's next one: it continues the
  // last frame kept, and the frames after that are merges. The chain's last frame may be one
  // whatever it holds; a longer run only when obs repeats the kept frame's peak and reset
  // counter and every frame of the run differs from it in one of them (a neighbour's bytes
  // OR-ed into those fields), or every frame of the run is overlapped and obs goes back from
  // its kWh. chain.size(): obs continues none of them on those terms.
  const auto& chain = m.shared_chain;
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  const protocol::Frame of = obs.frame();
  const auto same_state = [](const protocol::Frame& a, const protocol::Frame& b) {
    return a.peak_demand.value == b.peak_demand.value &&
           a.demand_resets.value == b.demand_resets.value;
  };
  // Overlapped frames whose kWh `of` goes back from: a neighbour's head OR-ed into their low
  // kWh byte (only raising bits), which a run at a near-constant offset repeats.
  const auto raised_kwh = [](const Observation& d, const protocol::Frame& f) {
    return d.burst == protocol::Burst::Overlapped &&
           f.total_kwh.advance_since(d.frame().total_kwh) >= Kwh24::kModulus / 2;
  };
  for (std::size_t keep = chain.size(); keep-- > 0;) {
    const Observation& base = keep == 0 ? *m.held : chain[keep - 1];
    if (!continues(base, obs, m.max_power_w, cadence_us)) continue;
    if (keep + 1 == chain.size()) return keep;
    const protocol::Frame bf = base.frame();
    if (!same_state(bf, of)) continue;
    const auto run_begin = chain.begin() + static_cast<std::ptrdiff_t>(keep);
    const bool run_merged =
        std::none_of(run_begin, chain.end() - 1,
                     [&](const Observation& d) { return same_state(d.frame(), bf); }) ||
        std::all_of(run_begin, chain.end(),
                    [&](const Observation& d) { return raised_kwh(d, of); });
    return run_merged ? keep : chain.size();
  }
  return chain.size();
}

bool Validator::quiet_chain_confirmed(const MeterState& m, const Observation& obs) const {
  // An overlapped held frame with the last reading's peak and counter (the only kind a chain of
  // frames that moved nothing but kWh has at its head) waits for a frame alone: a neighbour's
  // head may be OR-ed into its kWh. A pair of meters always in one burst never sends one. An
  // hour of shared frames continuing it does as well when each only moved kWh, none rose more
  // than four times the meter's own rate, and the newest advanced past twice the held frame's
  // rise: a raise of the held frame (at most its rise) would have shown as a step back below
  // it, and bits OR-ed into every frame as one within twice their highest bit.
  constexpr std::size_t kQuietSharedFrames = 12;  // the collision horizon: an hour of cadences
  const Observation& h = *m.held;
  if (obs.burst != protocol::Burst::Shared || m.history_len < 3) return false;
  const auto quiet = [&](const Observation& o) {
    const protocol::Frame f = o.frame();
    return f.peak_demand.value == m.last_peak && f.demand_resets.value == m.last_resets &&
           !above_own_rate(m, o);
  };
  if (!quiet(h) || !quiet(obs)) return false;
  std::size_t n_shared = 1;
  for (const Observation& o : m.shared_chain) {
    if (!quiet(o)) return false;
    n_shared += o.burst == protocol::Burst::Shared ? 1 : 0;
  }
  const Kwh24 hk = h.frame().total_kwh;
  const std::uint64_t rise = hk.advance_since(Kwh24{m.last_kwh24});
  const std::uint64_t advance = obs.frame().total_kwh.advance_since(hk);
  return n_shared >= kQuietSharedFrames && advance > 2 * rise;
}

void Validator::resolve_suspect(MeterState& m, const Observation& obs,
                                const std::optional<Check>& c, Decisions& out, bool may_defer) {
  const Observation h = *m.held;
  auto& chain = m.shared_chain;
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  const Observation& tail = chain.empty() ? h : chain.back();
  // A shared-burst frame whose peak or reset counter changed may be a merge with a neighbour
  // in near lock-step, whose next merge repeats it, and one overlapped by another window of its
  // burst may carry a neighbour's head OR-ed into its kWh (a neighbour at a near-constant
  // offset repeats that too): only a frame alone in its burst confirms it. The shared frames
  // that continue it wait with it (a chain).
  const protocol::Frame hf = h.frame();
  const bool needs_alone = !h.alone() && (h.burst == protocol::Burst::Overlapped ||
                                          hf.peak_demand.value != m.last_peak ||
                                          hf.demand_resets.value != m.last_resets);
  if (needs_alone && !obs.alone() && chain.size() < MeterState::kMaxSharedChain) {
    if (continues(tail, obs, m.max_power_w, cadence_us)) {
      if (quiet_chain_confirmed(m, obs)) {
        decide_held(m, obs, chain.size() + 1, out);
        return;
      }
      chain.push_back(obs);
      out.held.push_back(obs.frame_id);
      return;
    }
    // The chain's newest frames may be merges: obs continues an earlier one instead.
    if (const std::size_t keep = chain_kept_by(m, obs); keep < chain.size()) {
      for (std::size_t i = keep; i < chain.size(); ++i) {
        out.released.push_back(chain[i].frame_id);
        reject(chain[i], RejectReason::HeldNotConfirmed,
               fmt::format("shared-burst frame not continued by frame {}", obs.frame_id), out);
      }
      chain.resize(keep);
      chain.push_back(obs);
      out.held.push_back(obs.frame_id);
      return;
    }
    // Continuing neither. When it continues the last reading with its counter unchanged (a
    // risen peak included: it waits in turn), the held change was not the meter's (decided
    // below); else it is noise. So
    // is a frame too far ahead of the held frames' kWh: a true frame after a merge (which
    // only raises bits) goes back from it, never too fast; the longer time since the last
    // reading alone makes it plausible there.
    const protocol::Frame of = obs.frame();
    const auto from_tail =
        check(tail.frame().total_kwh.value, of.peak_demand.value, of.demand_resets.value,
              tail.received_at, of, obs.received_at, m.max_power_w);
    const bool too_fast = from_tail && from_tail->reason == RejectReason::KwhTooFast;
    const bool as_before = !c && !too_fast && of.demand_resets.value == m.last_resets;
    if (!as_before) {
      reject(obs, RejectReason::HeldNotConfirmed,
             fmt::format("shared-burst frame continuing neither held frame {} and the shared "
                         "frames after it{}",
                         h.frame_id, c ? "; " + c->detail : std::string{}),
             out);
      return;
    }
  }
  // The newest of the held frames that `obs` continues (0: the held frame, i: chain[i - 1]).
  std::size_t n_ok = 0;
  if (!needs_alone || obs.alone())
    for (std::size_t i = chain.size() + 1; i > 0 && n_ok == 0; --i)
      if (continues(i == 1 ? h : chain[i - 2], obs, m.max_power_w, cadence_us)) n_ok = i;
  // Alone and agreeing with neither the held frame nor the last reading: noise (or a new
  // meter). It waits as the decider (the frame after it may show both off the meter's line);
  // deciding alone, a held frame alone in its burst is decided on its plausibility.
  if (n_ok == 0 && c && obs.alone() && !needs_alone && !may_defer) n_ok = 1;
  if (n_ok == 0 && !obs.alone()) {
    // A shared frame that continues neither the held frames nor the last reading with its
    // counter as it was is noise: the held frames wait on.
    const protocol::Frame of = obs.frame();
    if (c) {
      reject(obs, c->reason, c->detail + " (shared burst)", out);
      return;
    }
    if (of.demand_resets.value != m.last_resets) {
      reject(obs, RejectReason::HeldNotConfirmed,
             fmt::format("shared-burst frame continuing neither held frame {} nor the last "
                         "reading (peak {} -> {}, counter {} -> {})",
                         h.frame_id, m.last_peak, of.peak_demand.value, m.last_resets,
                         of.demand_resets.value),
             out);
      return;
    }
  }
  // It would reject the newest held frame: one frame more decides whether it is the odd one
  // (a full chain is decided at once).
  if (may_defer && n_ok <= chain.size() && chain.size() < MeterState::kMaxSharedChain) {
    m.decider = obs;
    out.held.push_back(obs.frame_id);
    return;
  }
  decide_held(m, obs, n_ok, out);
}

void Validator::decide_held(MeterState& m, const Observation& obs, std::size_t n_ok,
                            Decisions& out) {
  const Observation h = *m.held;
  std::vector<Observation> held = std::move(m.shared_chain);
  held.insert(held.begin(), h);
  const std::string detail = m.held_detail;
  release_held(m, out);
  for (std::size_t i = 0; i < held.size(); ++i) {
    if (i > 0) out.released.push_back(held[i].frame_id);
    if (i < n_ok) {
      accept(m, held[i], out);
    } else {
      reject(held[i], RejectReason::HeldNotConfirmed,
             i == 0 ? fmt::format("{}; the next frame (frame {}) did not confirm it", detail,
                                  obs.frame_id)
                    : fmt::format("shared-burst frame after held frame {}, not confirmed by "
                                  "frame {}",
                                  h.frame_id, obs.frame_id),
             out);
    }
  }
  decide_free(m, obs, check_against_last(m, obs), out);
}

void Validator::resolve_decider(MeterState& m, const Observation& obs, Decisions& out) {
  // The decider contradicts the newest held frame, so one of them is not the meter's. When
  // the meter's next frame continues the held frames and not the decider (and is alone in its
  // burst if the decider was), the decider is the odd one: it is rejected and the next frame
  // takes its place. Otherwise the decider decides as it would have alone, then the next frame
  // comes after it. Two true frames of a meter always continue each other, so a decider that
  // the next frame continues is overruled only as a lone step back or down, or a raised kWh off
  // the meter's line (`lone_step`).
  const Observation d = *m.decider;
  m.decider.reset();
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  const Observation& tail = m.shared_chain.empty() ? *m.held : m.shared_chain.back();
  // Overruling takes the next frame repeating the newest held frame's state: the same reset
  // counter and no lower peak. Merely continuing it is not enough at high bit error rates: a
  // second bit error (counter 0 -> 2 with the peak falling, two cadences after a held peak bit
  // error) continues the held frame through a "reset", and two corrupted frames outvoted the
  // true one (BER 1e-3, 128 meters: 12 false counters and peaks).
  const protocol::Frame tf = tail.frame(), nf = obs.frame();
  // Nor does a next frame repeating a counter that jumped from the last reading by more than a
  // key turn a cadence: that is one bit flipped twice (BER 1e-3, 256 meters: 0 -> 8, 0, 8, 0 on
  // five meters, each a false reset and then a false `replaced`).
  const bool repeats =
      nf.demand_resets.value == tf.demand_resets.value &&
      nf.peak_demand.value >= tf.peak_demand.value &&
      counter_steps(m.last_resets, m.last_at, tf.demand_resets.value, tail.received_at, cadence_us);
  // Two frames alone in a row, the decider and the next, that agree with each other and with
  // the reading before the last, against the last reading and the held frame: two errors in a
  // row, each a risen peak the next one seemed to confirm (BER 1e-3, 256 meters: meter 31402's
  // peak 0x176 read 0x17e, then 0x1f6; a false `replaced`).
  // The next frame must contradict the last reading too: one that continues it shows the decider
  // alone fell back (a cleared bit: meter 30344's 0xe8e read 0xe8c after its true 0xe8d).
  if (m.shared_chain.empty() && before_last_continued(m, d, obs) && check_against_last(m, obs) &&
      !continues(tail, obs, m.max_power_w, cadence_us)) {
    back_to_before_last(m, d, obs, out);
    return;
  }
  const char* lone = lone_step(m, d, tail, obs);
  if ((obs.alone() || !d.alone()) && repeats && continues(tail, obs, m.max_power_w, cadence_us) &&
      (lone || !continues(d, obs, m.max_power_w, cadence_us))) {
    out.released.push_back(d.frame_id);
    reject(
        d, RejectReason::HeldNotConfirmed,
        fmt::format("contradicts held frame {}, which the meter's next frame (frame {}) "
                    "continues, and {} (second lookahead)",
                    tail.frame_id, obs.frame_id, lone ? lone : "that frame does not continue it"),
        out);
    resolve_suspect(m, obs, check_against_last(m, obs), out);
    return;
  }
  if (const auto off = both_off_the_line(m, d, tail, obs)) {
    out.released.push_back(d.frame_id);
    reject(d, off->reason,
           fmt::format("{}; it contradicts held frame {} too, and the meter's next frame (frame "
                       "{}) continues the last reading (second lookahead)",
                       off->detail, tail.frame_id, obs.frame_id),
           out);
    decide_held(m, obs, 0, out);
    return;
  }
  const auto n_held = static_cast<std::ptrdiff_t>(out.held.size());
  resolve_suspect(m, d, check_against_last(m, d), out, false);
  // Released unless it is held again (a frame released and held in one decision stays pending).
  if (std::find(out.held.begin() + n_held, out.held.end(), d.frame_id) == out.held.end())
    out.released.push_back(d.frame_id);
  process_known(m, obs, out);
}

std::optional<Validator::Check> Validator::both_off_the_line(const MeterState& m,
                                                             const Observation& d,
                                                             const Observation& tail,
                                                             const Observation& next) const {
  // Two frames alone in a row, each with a bit error: the held one changed a field, the decider
  // contradicts both it and the last reading, and the next frame continues the last reading
  // and not the held frame. Decided alone, the decider would have let the held frame be a
  // reading (BER 1e-4, 256 meters: counter 0 -> 4, then kWh 62 -> 55, then 63: a false reset and
  // a false `replaced`). The check of the decider against the last reading, when both are off.
  // A next frame from a shared burst (not overlapped) counts when its peak or counter is below
  // the held frame's and it does not continue it (no reset between them): a merge only sets
  // bits, and both only rise, so the held value was not the meter's (BER 1e-3, 256 meters:
  // meter 62266's peak 0 read 2, then its kWh 4309 read 4305; its next 25 frames, all shared,
  // were rejected as a fallen peak; meter 20763's counter 0 read 4, then its peak 0x426 0x422).
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  const protocol::Frame tf = tail.frame(), nf = next.frame();
  const bool below_held =
      next.burst == protocol::Burst::Shared && (nf.peak_demand.value < tf.peak_demand.value ||
                                                nf.demand_resets.value < tf.demand_resets.value);
  if (!d.alone() || !(next.alone() || below_held) || !tail.alone() || !m.shared_chain.empty() ||
      check_against_last(m, next) || continues(tail, next, m.max_power_w, cadence_us))
    return std::nullopt;
  return check_against_last(m, d);
}

void Validator::resolve_epoch(MeterState& m, const Observation& obs, Decisions& out) {
  // The held frame and the decider agree with each other and not with the last reading: a new
  // meter (or register) at this ID, or the same bit flipped in both (at BER 1e-3 one pair of
  // frames in a million shares a flipped bit: ~190 a month at 256 meters, each a false
  // `replaced`). A new meter's next frame goes on from the decider; a frame alone that continues
  // the last reading shows both were errors (it may continue the decider too: a cleared bit
  // comes back as a rise).
  const Observation d = *m.decider;
  m.decider.reset();
  // The decider and the next frame continue the reading before the last and the held frame
  // does not: the last reading raised (a set bit, plausible at a large power) and the held frame
  // off in another field, agreeing with the decider only in kWh (BER 1e-3, 256 meters, no
  // registry: meter 11382's 471 read 505, then its peak 0x6dd read 0x6cd; 29 false `replaced`).
  if (before_last_continued(m, d, obs) && from_before_last(m, *m.held)) {
    back_to_before_last(m, d, obs, out);
    return;
  }
  const auto c = check_against_last(m, obs);
  if (obs.alone() && !c) {
    const Observation h = *m.held;
    const std::string detail = m.held_detail;
    const RejectReason reason = m.held_reason;
    const auto cd = check_against_last(m, d);
    release_held(m, out);
    out.released.push_back(d.frame_id);
    const std::string why =
        fmt::format("frame {} continues the last reading (second lookahead)", obs.frame_id);
    reject(h, reason, fmt::format("{}; frame {} repeated it, but {}", detail, d.frame_id, why),
           out);
    reject(d, cd ? cd->reason : reason, fmt::format("{}; {}", cd ? cd->detail : detail, why), out);
    decide_free(m, obs, c, out);
    return;
  }
  const auto n_held = static_cast<std::ptrdiff_t>(out.held.size());
  resolve_contradiction(m, d, check_against_last(m, d), out, false);
  // Released unless it is held again (a frame released and held in one decision stays pending).
  if (std::find(out.held.begin() + n_held, out.held.end(), d.frame_id) == out.held.end())
    out.released.push_back(d.frame_id);
  process_known(m, obs, out);
}

std::optional<Validator::Check> Validator::from_before_last(const MeterState& m,
                                                            const Observation& o) const {
  const Reading& p = *m.prev_reading;
  return check(p.kwh24, p.peak_demand_counts, p.demand_resets, p.received_at, o.frame(),
               o.received_at, m.max_power_w);
}

bool Validator::before_last_continued(const MeterState& m, const Observation& d,
                                      const Observation& obs) const {
  if (!m.prev_reading || !d.alone() || !obs.alone()) return false;
  const std::int64_t cadence_us = settings_.cadence_s * kMicrosPerSecond;
  return d.frame().demand_resets.value == m.prev_reading->demand_resets &&
         !from_before_last(m, d) && continues(d, obs, m.max_power_w, cadence_us) &&
         check_against_last(m, d);
}

void Validator::back_to_before_last(MeterState& m, const Observation& d, const Observation& obs,
                                    Decisions& out) {
  const Observation h = *m.held;
  const std::string detail = m.held_detail;
  const RejectReason reason = m.held_reason;
  release_held(m, out);
  out.released.push_back(d.frame_id);
  const std::int64_t before = m.prev_reading->frame_id;
  drop_last(m, d,
            fmt::format("contradicted by frames {} and {}, which continue frame {} (second "
                        "lookahead)",
                        d.frame_id, obs.frame_id, before),
            out);
  reject(h, reason,
         fmt::format("{}; frames {} and {} continue frame {}, not it", detail, d.frame_id,
                     obs.frame_id, before),
         out);
  accept(m, d, out);
  process_known(m, obs, out);
}

const char* Validator::lone_step(const MeterState& m, const Observation& d, const Observation& tail,
                                 const Observation& next) const {
  const protocol::Frame tf = tail.frame(), nf = next.frame(), df = d.frame();
  // A shared decider that went back from the held frames' kWh is a lone step back (a cleared
  // bit) when the next frame continues them: on a meter's largest possible power the step up
  // again would pass as plausible, so continuing the decider does not protect it.
  const auto d_from_tail = check(tf.total_kwh.value, df.peak_demand.value, df.demand_resets.value,
                                 tail.received_at, df, d.received_at, m.max_power_w);
  // An overlapped frame's low kWh byte may hold a neighbour's head: from an overlapped tail, a
  // step back of a few low bits is the true register as often (catching up with the raised
  // value), so only a step back larger than the next frame's advance past it, plus the
  // register's 1 kWh, is lone. A shared tail carries no such bytes.
  const std::uint32_t back = Kwh24::kModulus - df.total_kwh.advance_since(tf.total_kwh);
  const std::uint32_t ahead = nf.total_kwh.advance_since(tf.total_kwh);
  const bool lone_step_back = !d.alone() && d_from_tail &&
                              d_from_tail->reason == RejectReason::KwhBackwards &&
                              (tail.burst != protocol::Burst::Overlapped || back > ahead + 1);
  // A decider that fell from both the held frames and the last reading in the same way (peak
  // or kWh, its counter as theirs) is a lone step down (a cleared bit) when the next frame
  // continues the held frames (with their very peak): the rise back from it would pass as
  // plausible. A true decider after merges that raised a field agrees with the last reading.
  const auto from_held = check(tf.total_kwh.value, tf.peak_demand.value, tf.demand_resets.value,
                               tail.received_at, df, d.received_at, m.max_power_w);
  const auto from_last = check_against_last(m, d);
  const bool lone_step_down = from_held && from_last && from_held->reason == from_last->reason &&
                              (from_held->reason == RejectReason::KwhBackwards ||
                               (from_held->reason == RejectReason::PeakFell &&
                                nf.peak_demand.value == tf.peak_demand.value));
  if (lone_step_down) return "it fell from that frame and the last reading alike";
  if (lone_step_back) return "it stepped back from that frame";
  // A decider alone that ran too fast from the held frame (a raised kWh bit) is the odd one when
  // it lies off the line from the last reading to the next frame and the held frame does not:
  // the next frame continues both, so the decider would take the held frame's place (BER 1e-3,
  // 256 meters: meter 50004's true 741 read 757 after a held true peak rise at 725).
  const bool off_line =
      d.alone() && tail.alone() && next.alone() && m.shared_chain.empty() && m.last_reading &&
      d_from_tail && d_from_tail->reason == RejectReason::KwhTooFast &&
      last_is_off_the_line(
          {m.last_reading->received_at, m.last_reading->kwh24}, {d.received_at, df.total_kwh.value},
          {tail.received_at, tf.total_kwh.value}, {next.received_at, nf.total_kwh.value});
  if (off_line) return "its kWh lies off the line from the last reading to that frame";
  return nullptr;
}

}  // namespace imsm::collector
