#include "sim/runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <thread>

#include "sim/duration.h"
#include "sim/truth_writer.h"

namespace imsm::sim {

namespace {

using Clock = std::chrono::steady_clock;

// Sleeps until `due`, in slices, giving up early when stop is set.
void sleep_until(Clock::time_point due, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    const auto now = Clock::now();
    if (now >= due) return;
    const auto left = due - now;
    std::this_thread::sleep_for(std::min<Clock::duration>(left, std::chrono::milliseconds(50)));
  }
}

struct Run {
  std::int64_t t_ns;
  std::size_t bus;
  std::size_t begin;  // index into that bus output's bytes
  std::size_t end;
};

void draw_progress(std::int64_t done_ns, std::int64_t total_ns, double wall_s) {
  const double frac =
      total_ns > 0 ? static_cast<double>(done_ns) / static_cast<double>(total_ns) : 1.0;
  const int width = 30;
  const int filled = static_cast<int>(frac * width);
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
  bar[width] = 0;
  const double sim_h = static_cast<double>(done_ns) / 3.6e12;
  std::fprintf(stderr, "\rsimulate [%s] %5.1f%%  %.1f h simulated  %.1f s", bar, frac * 100.0,
               sim_h, wall_s);
  std::fflush(stderr);
}

}  // namespace

RunReport run_fleet(Fleet& fleet, const RunOptions& o, const std::atomic<bool>& stop) {
  const FleetConfig& cfg = fleet.config();
  OutputContext ctx;
  ctx.max_speed = !o.speed.has_value();
  ctx.stop = &stop;
  ctx.drain_timeout_s = o.drain_timeout_s;

  // Which outputs belong to which bus.
  std::vector<std::vector<std::unique_ptr<Output>>> outputs(fleet.bus_count());
  std::vector<std::pair<std::size_t, const OutputSpec*>> chosen;
  for (const OutputSpec& spec : o.outputs) {
    std::size_t bus = 0;
    if (spec.bus.empty()) {
      if (fleet.bus_count() > 1)
        throw std::invalid_argument(
            "--out " + spec.text + ": the configuration has " + std::to_string(fleet.bus_count()) +
            " buses: say which one, e.g. --out " + cfg.buses[0].name + "=" + spec.text);
    } else {
      auto it = std::find_if(cfg.buses.begin(), cfg.buses.end(),
                             [&](const BusConfig& b) { return b.name == spec.bus; });
      if (it == cfg.buses.end())
        throw std::invalid_argument("--out " + spec.text + ": no bus is named '" + spec.bus + "'");
      bus = static_cast<std::size_t>(it - cfg.buses.begin());
    }
    chosen.emplace_back(bus, &spec);
  }
  for (const auto& [bus, spec] : chosen) {
    auto out = make_output(*spec, cfg.buses[bus].name, ctx);
    if (!out) throw std::runtime_error("--out " + spec->text + ": " + out.error());
    std::fprintf(o.info, "%s\n", (*out)->announce().c_str());
    outputs[bus].push_back(std::move(out).value());
  }
  std::fflush(o.info);
  std::unique_ptr<TruthWriter> truth;
  if (!o.truth_path.empty()) truth = std::make_unique<TruthWriter>(o.truth_path);
  for (auto& per_bus : outputs)
    for (auto& out : per_bus) out->start();

  RunReport report;
  const auto wall0 = Clock::now();
  auto last_progress = wall0;
  const double speed = o.speed.value_or(0.0);
  // Per-byte pacing when a byte lasts long enough on the wall clock to sleep for.
  const bool pace_bytes = o.speed && static_cast<double>(kByteNs) / speed >= 200'000.0;
  const std::int64_t res = cfg.load_resolution_ns;
  std::int64_t chunk =
      o.speed ? res : std::max<std::int64_t>(res, 3600LL * kNsPerSecond) / res * res;
  if (o.speed && static_cast<double>(chunk) / speed > 1e9)  // at most ~1 s of wall time ahead
    chunk = std::max<std::int64_t>(1'000'000'000, static_cast<std::int64_t>(speed * 1e9));

  std::vector<BusOutput> bus_out(fleet.bus_count());
  std::vector<Run> runs;
  std::vector<std::pair<const TruthRecord*, std::size_t>> frames;
  auto deliver = [&]() {
    // Runs of every bus, in time order.
    runs.clear();
    for (std::size_t b = 0; b < bus_out.size(); ++b) {
      const BusOutput& bo = bus_out[b];
      for (std::size_t k = 0; k < bo.marks.size(); ++k) {
        const std::size_t begin = static_cast<std::size_t>(bo.marks[k].offset - bo.first_offset);
        const std::size_t end =
            k + 1 < bo.marks.size()
                ? static_cast<std::size_t>(bo.marks[k + 1].offset - bo.first_offset)
                : bo.bytes.size();
        runs.push_back({bo.marks[k].time_ns, b, begin, end});
      }
    }
    std::stable_sort(runs.begin(), runs.end(),
                     [](const Run& a, const Run& b) { return a.t_ns < b.t_ns; });
    // When a stop request cuts the delivery short, the truth ends where the bytes did.
    std::int64_t sent_before = std::numeric_limits<std::int64_t>::max();
    for (const Run& r : runs) {
      if (stop.load()) {
        sent_before = r.t_ns;
        break;
      }
      const std::uint8_t* data = bus_out[r.bus].bytes.data();
      if (outputs[r.bus].empty()) continue;
      if (!o.speed) {
        for (auto& out : outputs[r.bus]) out->write_run(r.t_ns, {data + r.begin, r.end - r.begin});
        continue;
      }
      const std::size_t step = pace_bytes ? 1 : r.end - r.begin;
      for (std::size_t i = r.begin; i < r.end; i += step) {
        const std::int64_t t = r.t_ns + static_cast<std::int64_t>(i - r.begin) * kByteNs;
        sleep_until(wall0 + std::chrono::nanoseconds(
                                static_cast<std::int64_t>(static_cast<double>(t) / speed)),
                    stop);
        if (stop.load()) {
          sent_before = std::min(sent_before, r.t_ns);
          break;
        }
        const std::size_t n = std::min(step, r.end - i);
        for (auto& out : outputs[r.bus]) out->write_run(t, {data + i, n});
      }
    }
    // The truth of what went out, in time order across buses.
    if (truth) {
      frames.clear();
      for (std::size_t b = 0; b < bus_out.size(); ++b)
        for (const TruthRecord& tr : bus_out[b].frames) frames.emplace_back(&tr, b);
      std::stable_sort(frames.begin(), frames.end(), [](const auto& a, const auto& b) {
        return a.first->t_ns != b.first->t_ns ? a.first->t_ns < b.first->t_ns : a.second < b.second;
      });
      for (const auto& [tr, b] : frames)
        if (tr->t_ns < sent_before) truth->write(*tr, cfg.buses[b].name, fleet.info(tr->source).id);
      if (o.speed) truth->flush();
    }
    for (std::size_t b = 0; b < bus_out.size(); ++b) bus_out[b].clear(fleet.bus(b).stream_offset());
  };

  std::int64_t t = 0;
  while (t < o.duration_ns && !stop.load()) {
    const std::int64_t next = std::min(o.duration_ns, (t / chunk + 1) * chunk);
    fleet.advance(next, bus_out);
    deliver();
    t = next;
    if (o.progress) {
      const auto now = Clock::now();
      if (now - last_progress > std::chrono::milliseconds(200)) {
        draw_progress(t, o.duration_ns, std::chrono::duration<double>(now - wall0).count());
        last_progress = now;
      }
    }
  }
  if (!stop.load()) {
    fleet.finish(bus_out);
    deliver();
  } else {
    report.interrupted = true;
  }
  if (o.speed && !stop.load())
    sleep_until(wall0 + std::chrono::nanoseconds(
                            static_cast<std::int64_t>(static_cast<double>(o.duration_ns) / speed)),
                stop);
  if (o.progress) {
    draw_progress(t, o.duration_ns, std::chrono::duration<double>(Clock::now() - wall0).count());
    std::fprintf(stderr, "\n");
  }
  if (truth) {
    truth->flush();
    report.truth_lines = truth->lines();
  }
  for (auto& per_bus : outputs)
    for (auto& out : per_bus) {
      out->finish();
      report.bytes_lost += out->bytes_lost();
    }
  report.simulated_ns = t;
  report.wall_s = std::chrono::duration<double>(Clock::now() - wall0).count();
  return report;
}

}  // namespace imsm::sim
