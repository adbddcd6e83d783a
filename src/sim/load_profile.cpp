#include "sim/load_profile.h"

#include <algorithm>
#include <cmath>

namespace imsm::sim {

namespace {

constexpr std::int64_t kDayNs = 86400LL * 1'000'000'000;
constexpr std::int64_t kHourNs = 3600LL * 1'000'000'000;

// Fraction of peak, hour by hour (0..23), from typical published load shapes.
constexpr std::array<double, 24> kResidential = {0.20, 0.17, 0.15, 0.15, 0.15, 0.18, 0.35, 0.60,
                                                 0.55, 0.40, 0.33, 0.32, 0.33, 0.32, 0.33, 0.38,
                                                 0.50, 0.75, 0.95, 1.00, 0.95, 0.80, 0.55, 0.30};
constexpr std::array<double, 24> kOfficeWeekday = {0.15, 0.15, 0.15, 0.15, 0.15, 0.18, 0.30, 0.60,
                                                   0.90, 0.95, 1.00, 1.00, 0.95, 1.00, 1.00, 0.95,
                                                   0.90, 0.70, 0.45, 0.30, 0.22, 0.18, 0.15, 0.15};
constexpr std::array<double, 24> kOfficeWeekend = {0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15,
                                                   0.17, 0.18, 0.18, 0.18, 0.18, 0.18, 0.18, 0.18,
                                                   0.17, 0.16, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15};
constexpr std::array<double, 24> kRetail = {0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.15, 0.25,
                                            0.45, 0.75, 0.90, 0.95, 1.00, 1.00, 1.00, 1.00,
                                            0.98, 0.95, 0.90, 0.85, 0.70, 0.40, 0.18, 0.12};

double interpolate(const std::array<double, 24>& table, std::int64_t in_day_ns) {
  const double h = static_cast<double>(in_day_ns) / static_cast<double>(kHourNs);
  const auto i = static_cast<std::size_t>(h) % 24;
  const double f = h - std::floor(h);
  return table[i] * (1.0 - f) + table[(i + 1) % 24] * f;
}

}  // namespace

double daily_shape(LoadKind kind, std::int64_t t_ns) {
  const std::int64_t t = ((t_ns % (7 * kDayNs)) + 7 * kDayNs) % (7 * kDayNs);
  const std::int64_t day = t / kDayNs;  // 0 = Monday
  const std::int64_t in_day = t % kDayNs;
  switch (kind) {
    case LoadKind::Residential:
      return interpolate(kResidential, in_day);
    case LoadKind::Office:
      return interpolate(day >= 5 ? kOfficeWeekend : kOfficeWeekday, in_day);
    case LoadKind::Retail:
      return interpolate(kRetail, in_day);
    case LoadKind::Constant:
    case LoadKind::Csv:
      return 1.0;
  }
  return 1.0;
}

LoadProfile::LoadProfile(const LoadConfig& cfg, int elements,
                         const std::array<double, kMaxElements>& nominal_v, Rng rng,
                         std::int64_t step_ns)
    : cfg_(&cfg), elements_(elements), voltage_v_(cfg.voltage_v.value_or(nominal_v)), rng_(rng) {
  // Random walk with a 15-minute correlation time.
  ar_coeff_ = std::exp(-static_cast<double>(step_ns) / (900.0 * 1e9));
  if (cfg.kind == LoadKind::Residential || cfg.kind == LoadKind::Office ||
      cfg.kind == LoadKind::Retail) {
    const double shift_s = rng_.uniform(-1800.0, 1800.0);  // drawn always: same stream
    if (cfg.shift_habits) shift_ns_ = static_cast<std::int64_t>(shift_s * 1e9);
    ar_state_ = rng_.normal() * cfg.noise;
  }
}

LoadSample LoadProfile::sample(std::int64_t t_ns) {
  LoadSample s;
  s.leading = cfg_->leading;
  s.frequency_hz = cfg_->frequency_hz;
  s.temperature_c = cfg_->temperature_c;
  for (int e = 0; e < elements_; ++e) {
    const auto ue = static_cast<std::size_t>(e);
    s.voltage_v[ue] = voltage_v_[ue];
    s.pf[ue] = cfg_->pf;
  }
  switch (cfg_->kind) {
    case LoadKind::Constant:
      for (int e = 0; e < elements_; ++e)
        s.current_a[static_cast<std::size_t>(e)] = cfg_->current_a[static_cast<std::size_t>(e)];
      break;
    case LoadKind::Residential:
    case LoadKind::Office:
    case LoadKind::Retail: {
      const double shape = daily_shape(cfg_->kind, t_ns + shift_ns_);
      ar_state_ = ar_coeff_ * ar_state_ +
                  std::sqrt(1.0 - ar_coeff_ * ar_coeff_) * cfg_->noise * rng_.normal();
      const double factor = std::clamp(shape * (1.0 + ar_state_), 0.0, 1.1);
      for (int e = 0; e < elements_; ++e)
        s.current_a[static_cast<std::size_t>(e)] =
            cfg_->current_a[static_cast<std::size_t>(e)] * factor;
      break;
    }
    case LoadKind::Csv: {
      const auto& rows = cfg_->csv_rows;
      std::int64_t t = t_ns;
      const std::int64_t span =
          rows.back().t_ns + (rows.size() > 1 ? rows.back().t_ns - rows[rows.size() - 2].t_ns : 1);
      if (cfg_->csv_repeat && span > 0) t %= span;
      if (t < rows.front().t_ns) break;  // before the first row: no load
      if (csv_row_ >= rows.size() || rows[csv_row_].t_ns > t) csv_row_ = 0;  // wrapped
      while (csv_row_ + 1 < rows.size() && rows[csv_row_ + 1].t_ns <= t) ++csv_row_;
      const CsvRow& r = rows[csv_row_];
      for (int e = 0; e < elements_; ++e) {
        const auto ue = static_cast<std::size_t>(e);
        s.current_a[ue] = r.current_a[ue];
        s.pf[ue] = r.pf[ue];
      }
      break;
    }
  }
  return s;
}

}  // namespace imsm::sim
