#include "collector/collector.h"

#include <spdlog/spdlog.h>

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <thread>

#include "collector/service/event_loop.h"
#include "collector/service/source_component.h"
#include "collector/sinks/sink.h"
#include "collector/sinks/sink_pump.h"
#include "collector/sources/capture_identity.h"
#include "collector/sources/source.h"

namespace imsm::collector {

namespace {

constexpr std::int64_t kSweepEveryUs = 10 * kMicrosPerSecond;

SourceCounters add(const SourceCounters& a, const SourceCounters& b) {
  SourceCounters c;
  c.bytes_in = a.bytes_in + b.bytes_in;
  c.frames = a.frames + b.frames;
  c.shared_frames = a.shared_frames + b.shared_frames;
  c.skipped_no_stop = a.skipped_no_stop + b.skipped_no_stop;
  c.skipped_padding = a.skipped_padding + b.skipped_padding;
  c.skipped_gap = a.skipped_gap + b.skipped_gap;
  c.skipped_end = a.skipped_end + b.skipped_end;
  c.reconnects = a.reconnects + b.reconnects;
  c.last_offset = std::max(a.last_offset, b.last_offset);
  return c;
}

protocol::FramerOptions framer_options(const ValidationSettings& v) {
  return protocol::FramerOptions{std::chrono::duration_cast<protocol::Nanos>(
      std::chrono::duration<double, std::milli>(v.idle_gap_ms))};
}

// The validator decides a journaled frame; the store keeps the decisions.
void decide(Store& store, Validator& validator, const Observation& o, Decisions& d,
            CollectStats& stats) {
  validator.process(o, d);
  stats.observations++;
  stats.readings += d.readings.size();
  stats.rejected += d.rejections.size();
  stats.events += d.events.size();
  store.apply(d, validator);
  d.clear();
}

CollectStats stats_of(const service::WriterStats& w) {
  CollectStats s;
  s.observations = w.observations;
  s.readings = w.readings;
  s.rejected = w.rejected;
  s.events = w.events;
  s.commits = w.commits;
  s.dropped_frames = w.dropped_frames;
  s.store_failures = w.store_failures;
  return s;
}

}  // namespace

void register_meters(const CollectorConfig& config, Validator& v) {
  for (const auto& m : config.meters)
    v.register_meter(
        m.id, m.model_config ? std::optional(model_max_power_w(*m.model_config)) : std::nullopt);
}

void register_stored_meters(Store& store, const CollectorConfig& config, Validator& v) {
  for (const auto& m : store.meters()) {
    if (!m.registered || config.find_meter(m.id)) continue;
    std::optional<std::int64_t> max_w;
    if (!m.model.empty())
      if (auto parsed = protocol::parse_model_number(m.model)) max_w = model_max_power_w(*parsed);
    v.register_meter(m.id, max_w);
  }
}

namespace {

std::vector<SourceSpec> parse_specs(const CollectorConfig& config) {
  if (config.database.empty()) throw std::runtime_error("no database (--db or collector.database)");
  if (config.sources.empty()) throw std::runtime_error("no source (--source or collector.sources)");
  std::vector<SourceSpec> specs;
  for (const auto& text : config.sources) {
    SourceSpec s;
    if (auto err = parse_source(text, s)) throw std::invalid_argument(*err);
    specs.push_back(s);
  }
  return specs;
}

// Start-up work on the store: retried with backoff while another connection holds the lock
// (logged once), until it works or `stop` is set.
template <typename F>
void with_retry(const std::atomic<bool>& stop, F&& f) {
  auto backoff = std::chrono::milliseconds(100);
  bool logged = false;
  for (;;) {
    try {
      f();
      return;
    } catch (const SQLite::Exception& e) {
      const int code = e.getErrorCode() & 0xff;
      if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || stop.load()) throw;
      if (!logged) spdlog::warn("store: {} at start-up; retrying with backoff", e.what());
      logged = true;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

// Configure: registry, then the state the last run left, then its undecided frames.
void resume_store(Store& store, Validator& validator, const CollectorConfig& config,
                  const std::atomic<bool>& stop) {
  with_retry(stop, [&] {
    store.begin();
    store.save_registry(config);
    store.commit();
  });
  register_meters(config, validator);
  register_stored_meters(store, config, validator);
  // The decision state the last commit left decides on exactly as one run would
  // (docs/collector.md "Restarts"); a store without it re-decides its pending frames.
  if (store.load_validator_state(validator)) {
    spdlog::info("database {}: {} meter(s) known, validator state restored", config.database,
                 validator.meters().size());
    return;
  }
  for (const auto& s : store.load_meter_states()) validator.restore(s);
  auto pending = store.load_pending();
  Decisions d;
  with_retry(stop, [&] {
    Validator trial = validator;  // a failed attempt must not advance the validator
    store.begin();
    for (const auto& o : pending) {
      trial.process(o, d);
      store.apply(d, trial);
      d.clear();
    }
    store.save_validator_state(trial);
    store.commit();
    validator = std::move(trial);
  });
  if (!pending.empty())
    spdlog::info("resumed {} undecided frame(s) from the journal", pending.size());
  // No count of readings here: it scanned every block at start-up (issue 9).
  spdlog::info("database {}: {} meter(s) known", config.database, validator.meters().size());
}

struct SourceSet {
  std::vector<std::unique_ptr<service::SourceComponent>> components;
  std::map<std::uint32_t, SourceCounters> stored;  // counters at start-up
  bool any_live = false;
};

// A path alone does not identify a capture (issue 14): a file shorter than what was journaled
// from its path, or one whose first bytes differ from those recorded, is another capture:
// said, and replayed from its start. One that only grew is the same capture, resumed.
bool another_capture(const SourceSpec& spec, std::uint64_t last_offset,
                     const std::optional<CaptureIdentity>& known) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(spec.path, ec);
  if (ec) return false;  // the source reports an unreadable file itself
  if (size < last_offset) {
    spdlog::warn(
        "source {}: holds {} bytes, less than the {} journaled from this path before: "
        "a different capture; replaying it from the start",
        spec.name, size, last_offset);
    return true;
  }
  if (known && last_offset > 0 && !same_capture(spec.path, *known)) {
    spdlog::warn(
        "source {}: its first {} bytes differ from those of the capture journaled from this "
        "path before: a different capture; replaying it from the start",
        spec.name, known->prefix_len);
    return true;
  }
  return false;
}

// Records which capture a file source now reads (first time, replaced, or grown).
void record_capture(Store& store, const SourceSpec& spec, std::uint32_t id,
                    const std::optional<CaptureIdentity>& known, const std::atomic<bool>& stop) {
  const auto now = identify_capture(spec.path);
  if (!now || (known && *now == *known)) return;
  with_retry(stop, [&] {
    store.begin();
    store.save_capture_identity(id, *now);
    store.commit();
  });
}

SourceSet make_sources(Store& store, const std::vector<SourceSpec>& specs,
                       const CollectOptions& options, ObservationQueue& queue,
                       const ClockMap& clock, const std::atomic<bool>& stop) {
  SourceSet set;
  const UtcMicros replay_start = options.replay_start.value_or(clock.utc0);
  for (const auto& spec : specs) {
    SourceContext ctx;
    with_retry(stop, [&] {
      store.begin();
      ctx.source_id = store.source_id(spec.name);
      store.commit();
    });
    ctx.queue = &queue;
    ctx.clock = clock;
    ctx.framer = framer_options(options.config.validation);
    ctx.replay_start = replay_start;
    ctx.clock_scale = options.clock_scale;
    SourceCounters& before = set.stored[ctx.source_id];
    before = store.source_counters(ctx.source_id);
    if (spec.kind == SourceSpec::Kind::File && spec.path != "-") {
      const auto known = store.capture_identity(ctx.source_id);
      if (another_capture(spec, before.last_offset, known)) before.last_offset = 0;
      record_capture(store, spec, ctx.source_id, known, stop);
      ctx.resume_offset = before.last_offset;
      if (before.last_offset > 0)
        spdlog::info("source {}: resuming after byte offset {} (journaled earlier)", spec.name,
                     before.last_offset);
    }
    set.components.push_back(std::make_unique<service::SourceComponent>(spec, std::move(ctx)));
    set.any_live = set.any_live || spec.kind != SourceSpec::Kind::File;
  }
  return set;
}

// The counters a source's row holds: what earlier runs stored plus this run's (restored, not
// added again: a resumed file leaves out what it re-read below its resume offset).
// `all_journaled`: every frame the source delivered is in this batch (the final commit), so a
// consumed file's end offset may be kept (the next run then need not re-frame it).
SourceCounters merged_counters(const SourceCounters& stored, const Source& s,
                               const service::StoreWriter& writer, bool all_journaled) {
  SourceCounters c = add(stored, s.counters());
  c.last_offset = std::max(c.last_offset, writer.next_offset(s.id()));
  if (all_journaled) c.last_offset = std::max(c.last_offset, s.end_offset());
  const auto rejects = writer.rejects(s.id());
  for (std::size_t i = 0; i < kRejectReasonCount; ++i)
    c.rejected[i] = stored.rejected[i] + rejects[i];
  return c;
}

}  // namespace

CollectStats Collector::run(std::atomic<bool>& stop, std::atomic<bool>& reload) {
  CollectorConfig& config = options_.config;
  const std::vector<SourceSpec> specs = parse_specs(config);
  bool all_files = true;
  for (const auto& s : specs) all_files = all_files && s.kind == SourceSpec::Kind::File;
  // Live: 512 KiB keeps the daemon under its 10 MB target with 1,000 meters (9.2 MB measured);
  // a live bus writes a few readings a second, so cache misses cost nothing that matters.
  const int cache_kib = options_.cache_kib > 0 ? options_.cache_kib : (all_files ? 16384 : 512);
  const auto store_ptr = open_store(
      config.database,
      StoreOptions{false, options_.synchronous_full, cache_kib, options_.busy_timeout_ms});
  Store& store = *store_ptr;
  Validator validator(config.validation);
  resume_store(store, validator, config, stop);

  const service::SystemClock system_clock;
  const service::Clock& clock = options_.clock ? *options_.clock : system_clock;
  ObservationQueue queue;
  const ClockMap clock_map;
  SourceSet sources = make_sources(store, specs, options_, queue, clock_map, stop);
  service::WriterOptions wopt = options_.writer;
  wopt.commit_every = std::chrono::milliseconds(config.commit_interval_ms);
  bool final_commit = false;
  service::StoreWriter writer(store, validator, clock, wopt, [&](Store& st) {
    for (auto& c : sources.components) {
      const Source& s = c->source();
      st.save_source_counters(s.id(), merged_counters(sources.stored[s.id()], s, writer,
                                                      final_commit && writer.drained()));
    }
  });
  // Sinks read what each commit published (the outbox), each from its durable cursor.
  std::vector<std::unique_ptr<Sink>> sinks;
  for (const auto& spec : options_.sinks) sinks.push_back(make_sink(spec, &store));
  SinkPump pump(store, std::move(sinks));
  pump.others_read_through([&writer] { return writer.outbox_read_through(); });
  writer.after_commit([&pump] { pump.poll(std::chrono::steady_clock::now()); });
  std::vector<std::unique_ptr<service::Component>> extras;  // outlive the loop's stop_all()
  // Declared last: destroyed first, so every source thread is joined before what it uses.
  service::EventLoop loop(options_.tick);
  loop.add(writer);
  for (auto& c : sources.components) loop.add(*c);
  if (options_.extra_components) extras = options_.extra_components(writer, loop);
  for (auto& c : extras) loop.add(*c);
  queue.on_push([&loop] { loop.wake(); });
  loop.start_all();

  std::vector<SourceBatch> batches;
  auto take = [&] {
    batches.clear();
    queue.pop(batches, std::chrono::milliseconds(0));
    for (auto& b : batches) {
      if (writer.full() && !writer.failing()) writer.poll();
      writer.submit(std::move(b));
    }
  };
  auto turn = [&] {
    // Files wait (backpressure) while the memory queue is full; live buses cannot.
    if (sources.any_live || !writer.full()) take();
    if (sources.any_live) {
      const auto now = clock_map.utc0 +
                       static_cast<UtcMicros>(static_cast<double>(clock.utc() - clock_map.utc0) *
                                              options_.clock_scale);
      writer.sweep(now);
    }
    if (reload.exchange(false) && options_.reload) apply_reload(writer, validator);
    if (options_.exit_on_overflow && writer.stats().dropped_frames > 0)
      throw std::runtime_error(fmt::format(
          "store failing ({}) and the memory queue full: {} frame(s) dropped, exiting as asked",
          writer.health().reason, writer.stats().dropped_frames));
  };
  auto until = [&] {
    if (stop.load()) return true;
    for (auto& c : sources.components)
      if (!c->done()) return false;
    return !writer.failing();  // what they queued last is drained below
  };
  loop.run(turn, until);
  loop.stop_all();  // joins the source threads
  // Whatever the sources queued while stopping is still journaled: nothing is dropped.
  take();
  final_commit = true;
  if (!writer.finish())
    throw std::runtime_error(fmt::format("store: {}: {} frame(s) not written",
                                         writer.health().reason, writer.kept_frames()));
  // What the last commits published reaches the sinks before exit (they are behind by at
  // most a few batches); a sink still failing keeps its cursor for the next run.
  while (!pump.empty() && pump.poll(std::chrono::steady_clock::now()) > 0) {
  }
  return stats_of(writer.stats());
}

void Collector::apply_reload(service::StoreWriter& writer, Validator& validator) {
  CollectorConfig& config = options_.config;
  try {
    CollectorConfig fresh = options_.reload();
    writer.reload(fresh);
    register_meters(fresh, validator);
    config.meters = fresh.meters;
    config.tariffs = fresh.tariffs;
    spdlog::info("configuration reloaded: {} registered meter(s)", fresh.meters.size());
  } catch (const std::exception& e) {
    spdlog::error("reload failed, keeping the old configuration: {}", e.what());
  }
}

CollectStats rebuild(Store& store, const CollectorConfig& config) {
  Validator validator(config.validation);
  CollectStats stats;
  store.begin();
  if (!config.meters.empty()) store.save_registry(config);
  register_meters(config, validator);
  register_stored_meters(store, config, validator);
  store.clear_derived();
  Decisions d;
  UtcMicros clock_now = 0, last_sweep = 0;
  // Registered meters' rows must exist before their readings; discovered ones are re-created.
  store.each_frame([&](const Observation& o) {
    decide(store, validator, o, d, stats);
    if (o.received_at > clock_now) clock_now = o.received_at;
    if (clock_now - last_sweep >= kSweepEveryUs) {
      validator.sweep(clock_now, d);
      stats.events += d.events.size();
      store.apply(d, validator);
      d.clear();
      last_sweep = clock_now;
    }
  });
  d.events.push_back(Event{now_utc(), EventKind::Rebuilt, std::nullopt, std::nullopt,
                           EventDetail{}
                               .add("frames", static_cast<std::int64_t>(stats.observations))
                               .add("readings", static_cast<std::int64_t>(stats.readings))
                               .add("rejected", static_cast<std::int64_t>(stats.rejected))});
  store.apply(d, validator);
  store.commit();
  return stats;
}

}  // namespace imsm::collector
