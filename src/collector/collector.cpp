#include "collector/collector.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>

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

CollectStats Collector::run(std::atomic<bool>& stop, std::atomic<bool>& reload) {
  CollectorConfig& config = options_.config;
  if (config.database.empty()) throw std::runtime_error("no database (--db or collector.database)");
  if (config.sources.empty()) throw std::runtime_error("no source (--source or collector.sources)");
  std::vector<SourceSpec> specs;
  for (const auto& text : config.sources) {
    SourceSpec s;
    if (auto err = parse_source(text, s)) throw std::invalid_argument(*err);
    specs.push_back(s);
  }

  bool all_files = true;
  for (const auto& s : specs) all_files = all_files && s.kind == SourceSpec::Kind::File;
  // Live: 512 KiB keeps the daemon under its 10 MB target with 1,000 meters (9.2 MB measured);
  // a live bus writes a few readings a second, so cache misses cost nothing that matters.
  const int cache_kib = options_.cache_kib > 0 ? options_.cache_kib : (all_files ? 65536 : 512);
  const auto store_ptr =
      open_store(config.database, StoreOptions{false, options_.synchronous_full, cache_kib});
  Store& store = *store_ptr;
  Validator validator(config.validation);
  CollectStats stats;
  Decisions d;

  // Configure: registry, then the state the last run left, then its undecided frames.
  store.begin();
  store.save_registry(config);
  store.commit();
  register_meters(config, validator);
  register_stored_meters(store, config, validator);
  for (const auto& s : store.load_meter_states()) validator.restore(s);
  {
    auto pending = store.load_pending();
    store.begin();
    for (const auto& o : pending) {
      validator.process(o, d);
      store.apply(d, validator);
      d.clear();
    }
    store.commit();
    if (!pending.empty())
      spdlog::info("resumed {} undecided frame(s) from the journal", pending.size());
  }
  spdlog::info("database {}: {} meter(s) known", config.database, validator.meters().size());

  // Start the sources in order.
  ObservationQueue queue;
  std::atomic<bool> source_stop{false};
  ClockMap clock;
  const UtcMicros replay_start = options_.replay_start.value_or(clock.utc0);
  std::vector<std::unique_ptr<Source>> sources;
  std::map<std::uint32_t, SourceCounters> stored_counters;
  std::map<std::uint32_t, std::uint64_t> next_offset;
  for (const auto& spec : specs) {
    SourceContext ctx;
    store.begin();
    ctx.source_id = store.source_id(spec.name);
    store.commit();
    ctx.queue = &queue;
    ctx.stop = &source_stop;
    ctx.clock = clock;
    ctx.framer = framer_options(config.validation);
    ctx.replay_start = replay_start;
    ctx.clock_scale = options_.clock_scale;
    const SourceCounters before = store.source_counters(ctx.source_id);
    stored_counters[ctx.source_id] = before;
    if (spec.kind == SourceSpec::Kind::File && spec.path != "-") {
      ctx.resume_offset = before.last_offset;
      if (before.last_offset > 0)
        spdlog::info("source {}: resuming after byte offset {} (journaled earlier)", spec.name,
                     before.last_offset);
    }
    auto src = make_source(spec, std::move(ctx));
    src->open();
    sources.push_back(std::move(src));
  }
  std::vector<std::thread> threads;
  for (auto& s : sources) threads.emplace_back([&s] { s->run(); });

  auto save_counters = [&] {
    for (auto& s : sources) {
      SourceCounters c = add(stored_counters[s->id()], s->counters());
      c.last_offset = std::max(c.last_offset, next_offset[s->id()]);
      store.save_source_counters(s->id(), c);
    }
  };

  auto last_commit = std::chrono::steady_clock::now();
  const auto commit_every = std::chrono::milliseconds(config.commit_interval_ms);
  UtcMicros clock_now = 0;  // latest arrival seen: the replay clock for file sources
  UtcMicros last_sweep = 0;
  bool any_live = false;
  for (auto& s : sources) any_live = any_live || s->live();
  std::vector<SourceBatch> batches;

  auto sweep = [&](UtcMicros now) {
    validator.sweep(now, d);
    if (!d.empty()) {
      store.begin();
      stats.events += d.events.size();
      store.apply(d, validator);
    }
    d.clear();
    last_sweep = now;
  };

  // The clock moves with the arrivals: silent meters are found before the next frame counts.
  auto ingest_one = [&](Observation& o) {
    if (o.received_at > clock_now) {
      clock_now = o.received_at;
      if (clock_now - last_sweep >= kSweepEveryUs) sweep(clock_now);
    }
    store.journal(o);
    decide(store, validator, o, d, stats);
    auto& next = next_offset[o.source_id];
    next = std::max(next, o.stream_offset + protocol::kFrameSize);
  };
  // One batch from a source: its frames, then its events (source_up, source_down).
  auto ingest_batch = [&](SourceBatch& b) {
    store.begin();
    for (auto& o : b.observations) ingest_one(o);
    for (auto& e : b.events) d.events.push_back(e);
    stats.events += d.events.size();
    store.apply(d, validator);
    d.clear();
  };

  for (;;) {
    batches.clear();
    queue.pop(batches, std::chrono::milliseconds(50));
    for (auto& b : batches) ingest_batch(b);
    if (any_live) {
      const UtcMicros now =
          clock.utc0 + static_cast<UtcMicros>(static_cast<double>(now_utc() - clock.utc0) *
                                              options_.clock_scale);
      if (now - last_sweep >= kSweepEveryUs) sweep(std::max(now, clock_now));
    }
    const auto steady = std::chrono::steady_clock::now();
    if (store.in_transaction() && steady - last_commit >= commit_every) {
      save_counters();
      store.commit();
      stats.commits++;
      last_commit = steady;
    } else if (!store.in_transaction()) {
      last_commit = steady;
    }
    if (reload.exchange(false) && options_.reload) {
      try {
        CollectorConfig fresh = options_.reload();
        store.begin();
        store.save_registry(fresh);
        register_meters(fresh, validator);
        config.meters = fresh.meters;
        config.tariffs = fresh.tariffs;
        spdlog::info("configuration reloaded: {} registered meter(s)", fresh.meters.size());
      } catch (const std::exception& e) {
        spdlog::error("reload failed, keeping the old configuration: {}", e.what());
      }
    }
    if (stop.load()) break;
    bool all_done = true;
    for (auto& s : sources) all_done = all_done && s->finished();
    if (all_done) break;  // what they queued last is drained below
  }
  source_stop = true;
  queue.wake();
  for (auto& t : threads) t.join();
  // Whatever the sources queued while stopping is still journaled: nothing is dropped.
  batches.clear();
  queue.pop(batches, std::chrono::milliseconds(0));
  for (auto& b : batches) ingest_batch(b);
  if (clock_now > 0) sweep(clock_now);
  store.begin();
  save_counters();
  store.commit();
  stats.commits++;
  return stats;
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
