#include "collector/config.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace imsm::collector {

const MeterEntry* CollectorConfig::find_meter(std::uint16_t id) const {
  for (const auto& m : meters)
    if (m.id == id) return &m;
  return nullptr;
}

const Tariff* CollectorConfig::find_tariff(std::string_view name) const {
  for (const auto& t : tariffs)
    if (t.name == name) return &t;
  for (const auto& t : tariffs)
    if (t.name == "default") return &t;
  return tariffs.empty() ? nullptr : &tariffs.front();
}

std::optional<Micros> parse_decimal_micros(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  std::size_t i = 0;
  if (s[0] == '-' || s[0] == '+') neg = s[0] == '-', ++i;
  Micros whole = 0;
  std::size_t nd = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++nd) {
    if (whole > 1'000'000'000'000LL) return std::nullopt;
    whole = whole * 10 + (s[i] - '0');
  }
  Micros frac = 0;
  std::size_t nf = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++nf) {
      if (nf >= 6) return std::nullopt;
      frac = frac * 10 + (s[i] - '0');
    }
  }
  if (i != s.size() || nd + nf == 0) return std::nullopt;
  for (std::size_t k = nf; k < 6; ++k) frac *= 10;
  const Micros v = whole * 1'000'000 + frac;
  return neg ? -v : v;
}

std::string format_micros(Micros value, int decimals) {
  const bool neg = value < 0;
  std::uint64_t v =
      neg ? static_cast<std::uint64_t>(-(value + 1)) + 1 : static_cast<std::uint64_t>(value);
  std::uint64_t scale = 1;
  for (int i = decimals; i < 6; ++i) scale *= 10;
  v = (v + scale / 2) / scale;  // half away from zero
  std::uint64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  std::string out = neg && v != 0 ? "-" : "";
  out += std::to_string(v / unit);
  if (decimals > 0) out += fmt::format(".{:0{}}", v % unit, decimals);
  return out;
}

std::int64_t model_max_power_w(const protocol::ModelConfig& model) {
  // Sum of the elements' nominal voltages in tenths of a volt (the high leg of a delta counts
  // at 207.8 V), x CT primary x 1.1, in integers, rounded up to whole watts.
  std::int64_t decivolts = 0;
  for (int e = 0; e < model.elements; ++e)
    decivolts += std::llround(protocol::element_nominal_voltage_v(model, e) * 10.0);
  return (decivolts * model.ct_primary_a * 11 + 99) / 100;
}

namespace {

[[noreturn]] void fail(const std::string& path, const toml::source_region& where,
                       const std::string& key, const std::string& problem) {
  throw ConfigError(fmt::format("{}:{}: {}: {}", path, where.begin.line, key, problem));
}

template <class T>
std::optional<T> get_int(const toml::node& n, const std::string& path, const std::string& key,
                         std::int64_t lo, std::int64_t hi) {
  auto v = n.value_exact<std::int64_t>();
  if (!v) fail(path, n.source(), key, "expected an integer");
  if (*v < lo || *v > hi) fail(path, n.source(), key, fmt::format("must be in {}..{}", lo, hi));
  return static_cast<T>(*v);
}

// A number (integer or float) in [lo, hi], or (lo, hi] when `lo_included` is false.
double get_number(const toml::node& n, const std::string& path, const std::string& key, double lo,
                  bool lo_included, double hi) {
  auto d = n.value<double>();
  if (!d || !(lo_included ? *d >= lo : *d > lo) || !(*d <= hi))
    fail(path, n.source(), key,
         fmt::format("expected a number in {}{}, {}]", lo_included ? "[" : "(", lo, hi));
  return *d;
}

std::string get_string(const toml::node& n, const std::string& path, const std::string& key) {
  auto v = n.value_exact<std::string>();
  if (!v) fail(path, n.source(), key, "expected a string");
  return *v;
}

Micros get_money(const toml::node& n, const std::string& path, const std::string& key) {
  std::optional<Micros> v;
  if (auto s = n.value_exact<std::string>()) {
    v = parse_decimal_micros(*s);
  } else if (auto i = n.value_exact<std::int64_t>()) {
    if (*i >= 0 && *i < 1'000'000'000'000LL) v = *i * 1'000'000;
  } else if (n.value_exact<double>()) {
    // A TOML float is binary: 0.1432 is not exactly 0.1432. Money is never a float.
    fail(path, n.source(), key,
         "a float is not an exact amount: write the price as a decimal string, e.g. \"0.1432\"");
  }
  if (!v || *v < 0)
    fail(path, n.source(), key, "expected a non-negative decimal amount like \"0.1432\"");
  return *v;
}

// "HH:MM" (00:00..24:00) to minutes after midnight.
int get_clock(const toml::node& n, const std::string& path, const std::string& key) {
  const std::string s = get_string(n, path, key);
  int h = -1, m = -1;
  if (s.size() == 5 && s[2] == ':' && std::isdigit(static_cast<unsigned char>(s[0])) &&
      std::isdigit(static_cast<unsigned char>(s[1])) &&
      std::isdigit(static_cast<unsigned char>(s[3])) &&
      std::isdigit(static_cast<unsigned char>(s[4]))) {
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
  }
  if (h < 0 || m > 59 || h * 60 + m > 24 * 60)
    fail(path, n.source(), key, "'" + s + "': expected local time HH:MM, 00:00..24:00");
  return h * 60 + m;
}

void check_keys(const toml::table& t, const std::string& path, const std::string& prefix,
                std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : t) {
    bool ok = false;
    for (auto a : allowed) ok = ok || k.str() == a;
    if (!ok) fail(path, v.source(), prefix + std::string(k.str()), "unknown key");
  }
}

template <class Fn>
void each_table(const toml::node& node, const std::string& path, const std::string& key, Fn&& fn) {
  auto* arr = node.as_array();
  if (!arr) fail(path, node.source(), key, "expected [[" + key + "]] tables");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string k = fmt::format("{}[{}]", key, i);
    auto* t = (*arr)[i].as_table();
    if (!t) fail(path, (*arr)[i].source(), k, "expected a table");
    fn(*t, k);
  }
}

TouWindow parse_tou(const toml::table& t, const std::string& path, const std::string& key) {
  check_keys(t, path, key + ".", {"name", "days", "start", "end", "energy_per_kwh"});
  TouWindow w;
  auto* name = t.get("name");
  if (!name) fail(path, t.source(), key + ".name", "missing (name the period, e.g. on_peak)");
  w.name = get_string(*name, path, key + ".name");
  if (auto* d = t.get("days")) {
    const std::string days = get_string(*d, path, key + ".days");
    if (days != "weekdays" && days != "weekends" && days != "all")
      fail(path, d->source(), key + ".days", "'" + days + "': expected weekdays, weekends or all");
    w.weekdays = days != "weekends";
    w.weekends = days != "weekdays";
  }
  auto* a = t.get("start");
  auto* b = t.get("end");
  if (!a || !b) fail(path, t.source(), key, "needs start and end (local \"HH:MM\")");
  w.start_min = get_clock(*a, path, key + ".start");
  w.end_min = get_clock(*b, path, key + ".end");
  if (w.end_min <= w.start_min)
    fail(path, b->source(), key + ".end", "must be after start (split a window across midnight)");
  auto* e = t.get("energy_per_kwh");
  if (!e) fail(path, t.source(), key + ".energy_per_kwh", "missing");
  w.energy_per_kwh = get_money(*e, path, key + ".energy_per_kwh");
  return w;
}

TierBlock parse_tier(const toml::table& t, const std::string& path, const std::string& key) {
  check_keys(t, path, key + ".", {"up_to_kwh", "energy_per_kwh"});
  TierBlock b;
  if (auto* u = t.get("up_to_kwh"))
    b.up_to_kwh = *get_int<std::int64_t>(*u, path, key + ".up_to_kwh", 1, 1'000'000'000);
  auto* e = t.get("energy_per_kwh");
  if (!e) fail(path, t.source(), key + ".energy_per_kwh", "missing");
  b.energy_per_kwh = get_money(*e, path, key + ".energy_per_kwh");
  return b;
}

void check_tou(const Tariff& tf, const toml::table& t, const std::string& path,
               const std::string& key) {
  for (std::size_t i = 0; i < tf.tou.size(); ++i)
    for (std::size_t j = 0; j < i; ++j) {
      const auto &a = tf.tou[i], &b = tf.tou[j];
      const bool same_days = (a.weekdays && b.weekdays) || (a.weekends && b.weekends);
      if (same_days && a.start_min < b.end_min && b.start_min < a.end_min)
        fail(path, t.source(), fmt::format("{}.tou[{}]", key, i),
             "overlaps tou[" + std::to_string(j) + "] ('" + b.name + "')");
    }
}

void check_tiers(const Tariff& tf, const toml::table& t, const std::string& path,
                 const std::string& key) {
  if (tf.tiers.empty()) return;
  if (!tf.tou.empty()) fail(path, t.source(), key, "a tariff has tiers or tou windows, not both");
  for (std::size_t i = 0; i < tf.tiers.size(); ++i) {
    const bool last = i + 1 == tf.tiers.size();
    if (last == tf.tiers[i].up_to_kwh.has_value())
      fail(path, t.source(), fmt::format("{}.tier[{}].up_to_kwh", key, i),
           last ? "the last block has no up_to_kwh" : "every block but the last needs up_to_kwh");
    if (i > 0 && !last && *tf.tiers[i].up_to_kwh <= *tf.tiers[i - 1].up_to_kwh)
      fail(path, t.source(), fmt::format("{}.tier[{}].up_to_kwh", key, i),
           "must be larger than the block before");
  }
}

Tariff parse_tariff(const toml::table& t, const std::string& path, const std::string& key) {
  check_keys(t, path, key + ".",
             {"name", "currency", "energy_per_kwh", "demand_per_kw", "fixed_per_meter", "tou",
              "tier", "minimum_bill", "demand_when_quiet"});
  Tariff tf;
  if (auto* s = t.get("name")) tf.name = get_string(*s, path, key + ".name");
  if (auto* s = t.get("currency")) tf.currency = get_string(*s, path, key + ".currency");
  if (auto* s = t.get("energy_per_kwh"))
    tf.energy_per_kwh = get_money(*s, path, key + ".energy_per_kwh");
  if (auto* s = t.get("demand_per_kw"))
    tf.demand_per_kw = get_money(*s, path, key + ".demand_per_kw");
  if (auto* s = t.get("fixed_per_meter"))
    tf.fixed_per_meter = get_money(*s, path, key + ".fixed_per_meter");
  if (auto* s = t.get("minimum_bill")) tf.minimum_bill = get_money(*s, path, key + ".minimum_bill");
  if (auto* s = t.get("demand_when_quiet")) {
    const std::string v = get_string(*s, path, key + ".demand_when_quiet");
    if (v != "interval" && v != "register")
      fail(path, s->source(), key + ".demand_when_quiet",
           "'" + v + "': expected interval or register");
    tf.demand_when_quiet_register = v == "register";
  }
  if (auto* s = t.get("tou"))
    each_table(*s, path, key + ".tou", [&](const toml::table& w, const std::string& k) {
      tf.tou.push_back(parse_tou(w, path, k));
    });
  if (auto* s = t.get("tier"))
    each_table(*s, path, key + ".tier", [&](const toml::table& w, const std::string& k) {
      tf.tiers.push_back(parse_tier(w, path, k));
    });
  check_tou(tf, t, path, key);
  check_tiers(tf, t, path, key);
  return tf;
}

}  // namespace

CollectorConfig parse_config(std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  if (root.empty())
    throw ConfigError(path +
                      ":1: the configuration is empty (nothing configured: remove the "
                      "file or give [collector], [[tariff]] or [[meter]] tables)");
  CollectorConfig c;
  c.path = path;
  check_keys(root, path, "", {"collector", "validation", "billing", "tariff", "meter"});

  if (auto* node = root.get("collector")) {
    auto* t = node->as_table();
    if (!t) fail(path, node->source(), "collector", "expected a table [collector]");
    check_keys(*t, path, "collector.", {"sources", "database", "commit_interval_ms"});
    if (auto* s = t->get("sources")) {
      auto* arr = s->as_array();
      if (!arr) fail(path, s->source(), "collector.sources", "expected an array of strings");
      for (const auto& e : *arr) c.sources.push_back(get_string(e, path, "collector.sources"));
    }
    if (auto* s = t->get("database")) c.database = get_string(*s, path, "collector.database");
    if (auto* s = t->get("commit_interval_ms"))
      c.commit_interval_ms =
          *get_int<std::int64_t>(*s, path, "collector.commit_interval_ms", 1, 1000);
  }
  if (auto* node = root.get("validation")) {
    auto* t = node->as_table();
    if (!t) fail(path, node->source(), "validation", "expected a table [validation]");
    check_keys(*t, path, "validation.",
               {"confirm_frames", "default_max_power_w", "cadence_s", "silent_after_cadences",
                "idle_gap_ms", "collision_window_ms", "collision_drift_ppm",
                "collision_horizon_cadences"});
    auto& v = c.validation;
    if (auto* s = t->get("confirm_frames"))
      v.confirm_frames = *get_int<int>(*s, path, "validation.confirm_frames", 1, 100);
    if (auto* s = t->get("default_max_power_w"))
      v.default_max_power_w =
          *get_int<std::int64_t>(*s, path, "validation.default_max_power_w", 1, 100'000'000);
    if (auto* s = t->get("cadence_s"))
      v.cadence_s = *get_int<std::int64_t>(*s, path, "validation.cadence_s", 1, 86400);
    if (auto* s = t->get("silent_after_cadences"))
      v.silent_after_cadences =
          *get_int<int>(*s, path, "validation.silent_after_cadences", 1, 1000);
    if (auto* s = t->get("idle_gap_ms"))
      v.idle_gap_ms = get_number(*s, path, "validation.idle_gap_ms", 0, false, 60000);
    if (auto* s = t->get("collision_window_ms"))
      v.collision_window_ms = get_number(*s, path, "validation.collision_window_ms", 0, true, 1000);
    if (auto* s = t->get("collision_drift_ppm"))
      v.collision_drift_ppm = get_number(*s, path, "validation.collision_drift_ppm", 0, true, 1000);
    if (auto* s = t->get("collision_horizon_cadences"))
      v.collision_horizon_cadences =
          *get_int<int>(*s, path, "validation.collision_horizon_cadences", 1, 1000);
  }
  if (auto* node = root.get("billing")) {
    auto* t = node->as_table();
    if (!t) fail(path, node->source(), "billing", "expected a table [billing]");
    check_keys(*t, path, "billing.", {"time_zone"});
    if (auto* s = t->get("time_zone"))
      c.billing.time_zone = get_string(*s, path, "billing.time_zone");
  }
  std::set<std::string> tariff_names;
  if (auto* node = root.get("tariff"))
    each_table(*node, path, "tariff", [&](const toml::table& t, const std::string& key) {
      Tariff tf = parse_tariff(t, path, key);
      if (!tariff_names.insert(tf.name).second)
        fail(path, t.source(), key + ".name", "duplicate tariff name '" + tf.name + "'");
      c.tariffs.push_back(std::move(tf));
    });
  if (auto* node = root.get("meter")) {
    auto* arr = node->as_array();
    if (!arr) fail(path, node->source(), "meter", "expected [[meter]] tables");
    std::set<int> ids, units;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string key = fmt::format("meter[{}]", i);
      auto* t = (*arr)[i].as_table();
      if (!t) fail(path, (*arr)[i].source(), key, "expected a table");
      check_keys(*t, path, key + ".",
                 {"id", "model", "label", "tenant", "location", "tariff", "modbus_unit"});
      MeterEntry m;
      auto* idn = t->get("id");
      if (!idn) fail(path, t->source(), key + ".id", "missing (every meter needs its ID)");
      m.id = *get_int<std::uint16_t>(*idn, path, key + ".id", 0, 65535);
      if (!ids.insert(m.id).second)
        fail(path, idn->source(), key + ".id", fmt::format("duplicate meter ID {}", m.id));
      if (auto* s = t->get("model")) {
        m.model = get_string(*s, path, key + ".model");
        auto parsed = protocol::parse_model_number(m.model);
        if (!parsed)
          fail(path, s->source(), key + ".model",
               fmt::format("'{}': bad {} at position {}, expected {}", m.model,
                           protocol::to_string(parsed.error().field), parsed.error().position,
                           parsed.error().expected));
        m.model_config = *parsed;
      }
      if (auto* s = t->get("label")) m.label = get_string(*s, path, key + ".label");
      if (auto* s = t->get("tenant")) m.tenant = get_string(*s, path, key + ".tenant");
      if (auto* s = t->get("location")) m.location = get_string(*s, path, key + ".location");
      if (auto* s = t->get("tariff")) {
        m.tariff = get_string(*s, path, key + ".tariff");
        if (!tariff_names.count(m.tariff))
          fail(path, s->source(), key + ".tariff", "no [[tariff]] named '" + m.tariff + "'");
      }
      if (auto* u = t->get("modbus_unit")) {
        const auto unit = *get_int<std::uint8_t>(*u, path, key + ".modbus_unit", 1, 247);
        if (!units.insert(unit).second)
          fail(path, u->source(), key + ".modbus_unit",
               fmt::format("Modbus unit {} is already another meter's", unit));
        c.modbus_units[m.id] = unit;
      }
      c.meters.push_back(std::move(m));
    }
  }
  return c;
}

CollectorConfig load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace imsm::collector

namespace imsm::collector {
CollectorConfig load_config_or_default(const std::string& path) {
  if (!path.empty()) return load_config(path);
  std::ifstream probe(kDefaultConfigPath);
  if (probe) return load_config(kDefaultConfigPath);
  return CollectorConfig{};
}
}  // namespace imsm::collector
