#include "sim/fleet_config.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/duration.h"

namespace imsm::sim {

const char* to_string(LoadKind k) {
  switch (k) {
    case LoadKind::Constant:
      return "constant";
    case LoadKind::Residential:
      return "residential";
    case LoadKind::Office:
      return "office";
    case LoadKind::Retail:
      return "retail";
    case LoadKind::Csv:
      return "csv";
  }
  return "?";
}

namespace {

// Walks one TOML table, remembering which keys were read so that unknown keys (typos) are
// reported with their position instead of being ignored.
class TableReader {
 public:
  TableReader(const toml::table& t, std::string path, const std::string& file)
      : t_(t), path_(std::move(path)), file_(file) {}

  [[noreturn]] void fail_at(const toml::node& n, const std::string& key,
                            const std::string& why) const {
    const auto& b = n.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: {}: {}", file_, b.line, b.column, key, why));
  }
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    if (const toml::node* n = t_.get(key)) fail_at(*n, full(key), why);
    fail_at(t_, full(key), why);
  }
  [[noreturn]] void fail_table(const std::string& why) const {
    fail_at(t_, path_.empty() ? "(top level)" : path_, why);
  }

  [[nodiscard]] std::string full(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  const toml::node* get(const std::string& key) {
    seen_.insert(key);
    return t_.get(key);
  }
  [[nodiscard]] const toml::table& table() const { return t_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::string& file() const { return file_; }

  std::optional<double> number(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (auto v = n->value<double>(); v && (n->is_floating_point() || n->is_integer())) {
      if (!std::isfinite(*v)) fail(key, "must be a finite number");
      return *v;
    }
    fail(key, "must be a number");
  }
  double number_in(const std::string& key, double dflt, double lo, double hi) {
    const auto v = number(key).value_or(dflt);
    if (v < lo || v > hi) fail(key, fmt::format("must be between {} and {}, not {}", lo, hi, v));
    return v;
  }
  std::optional<std::int64_t> integer(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(key, "must be a whole number");
    return n->as_integer()->get();
  }
  std::optional<std::string> string(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(key, "must be a string");
    return n->as_string()->get();
  }
  std::optional<bool> boolean(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(key, "must be true or false");
    return n->as_boolean()->get();
  }
  std::optional<std::int64_t> seconds(const std::string& key) {
    const auto v = number(key);
    if (!v) return std::nullopt;
    const auto ns = seconds_to_ns(*v);
    if (!ns) fail(key, "must be a non-negative number of seconds");
    return ns;
  }
  std::optional<std::vector<double>> numbers(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (n->is_integer() || n->is_floating_point()) {
      const double v = *n->value<double>();
      if (!std::isfinite(v)) fail(key, "must be a finite number");
      return std::vector<double>{v};
    }
    const toml::array* a = n->as_array();
    if (!a) fail(key, "must be a number or an array of numbers");
    std::vector<double> out;
    for (const toml::node& el : *a) {
      auto v = el.value<double>();
      if (!v || !(el.is_integer() || el.is_floating_point()) || !std::isfinite(*v))
        fail_at(el, full(key), "every entry must be a number");
      out.push_back(*v);
    }
    return out;
  }
  std::optional<std::vector<int>> ints(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "must be an array of whole numbers");
    std::vector<int> out;
    for (const toml::node& el : *a) {
      if (!el.is_integer()) fail_at(el, full(key), "every entry must be a whole number");
      const auto v = el.as_integer()->get();
      if (v < -1000 || v > 1000) fail_at(el, full(key), "entry out of range");
      out.push_back(static_cast<int>(v));
    }
    return out;
  }
  // Sub-tables (a [x] table) and arrays of tables ([[x]]).
  const toml::table* sub_table(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(key, "must be a table ([" + full(key) + "])");
    return n->as_table();
  }
  std::vector<const toml::table*> table_array(const std::string& key) {
    std::vector<const toml::table*> out;
    const toml::node* n = get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "must be an array of tables ([[" + full(key) + "]])");
    for (const toml::node& el : *a) {
      if (!el.is_table()) fail_at(el, full(key), "every entry must be a table");
      out.push_back(el.as_table());
    }
    return out;
  }

  // Every key that was not read is unknown: report the first one in document order.
  void reject_unknown() const {
    const toml::node* first = nullptr;
    std::string first_key;
    for (const auto& [k, v] : t_) {
      if (seen_.count(std::string(k.str()))) continue;
      const auto& b = v.source().begin;
      if (!first || b.line < first->source().begin.line) {
        first = &v;
        first_key = std::string(k.str());
      }
    }
    if (first) fail_at(*first, full(first_key), "unknown key (see docs/simulate.md)");
  }

 private:
  const toml::table& t_;
  std::string path_;
  const std::string& file_;
  std::set<std::string> seen_;
};

std::array<double, kMaxElements> per_element(TableReader& r, const std::string& key,
                                             const std::vector<double>& v, int elements, double lo,
                                             double hi) {
  std::array<double, kMaxElements> out{};
  if (v.size() == 1) {
    for (int e = 0; e < elements; ++e) out[static_cast<std::size_t>(e)] = v[0];
  } else if (static_cast<int>(v.size()) == elements) {
    for (int e = 0; e < elements; ++e)
      out[static_cast<std::size_t>(e)] = v[static_cast<std::size_t>(e)];
  } else {
    r.fail(key, fmt::format("needs {} entries (one per element of this model), not {}", elements,
                            v.size()));
  }
  for (int e = 0; e < elements; ++e) {
    const double x = out[static_cast<std::size_t>(e)];
    if (x < lo || x > hi)
      r.fail(key, fmt::format("entry {} must be between {} and {}, not {}", e + 1, lo, hi, x));
  }
  return out;
}

LoadConfig parse_load(TableReader& r, const protocol::ModelConfig& model,
                      const std::filesystem::path& base_dir) {
  LoadConfig load;
  const int elements = model.elements;
  const std::string kind = r.string("kind").value_or("constant");
  if (kind == "constant") {
    load.kind = LoadKind::Constant;
  } else if (kind == "residential") {
    load.kind = LoadKind::Residential;
  } else if (kind == "office") {
    load.kind = LoadKind::Office;
  } else if (kind == "retail") {
    load.kind = LoadKind::Retail;
  } else if (kind == "csv") {
    load.kind = LoadKind::Csv;
  } else {
    r.fail("kind", "must be constant, residential, office, retail or csv, not '" + kind + "'");
  }
  std::array<double, kMaxElements> nominal{};
  for (int e = 0; e < elements; ++e)
    nominal[static_cast<std::size_t>(e)] = protocol::element_nominal_voltage_v(model, e);
  if (auto v = r.numbers("voltage_v"))
    load.voltage_v = per_element(r, "voltage_v", *v, elements, 0.0, 1000.0);
  const double max_a = model.ct_primary_a * 3.0 * 1.5;  // up to three paralleled sets, overload
  if (auto c = r.numbers("current_a")) {
    load.current_a = per_element(r, "current_a", *c, elements, 0.0, max_a);
  } else if (load.kind != LoadKind::Csv) {
    r.fail_table("missing key current_a (primary amperes per element)");
  }
  load.pf = r.number_in("pf", 1.0, 0.0, 1.0);
  const std::string mode = r.string("pf_mode").value_or("lag");
  if (mode != "lag" && mode != "lead") r.fail("pf_mode", "must be lag or lead, not '" + mode + "'");
  load.leading = mode == "lead";
  load.frequency_hz = r.number_in("frequency_hz", 60.0, 45.0, 65.0);
  load.noise = r.number_in("noise", 0.10, 0.0, 1.0);
  load.temperature_c = r.number_in("temperature_c", kCtReferenceTemperatureC, -40.0, 85.0);
  if (auto p = r.string("path")) {
    if (load.kind != LoadKind::Csv) r.fail("path", "only a csv load has a path");
    std::filesystem::path pp(*p);
    load.csv_path = (pp.is_absolute() ? pp : base_dir / pp).string();
  } else if (load.kind == LoadKind::Csv) {
    r.fail_table("a csv load needs path = \"FILE.csv\"");
  }
  load.csv_repeat = r.boolean("repeat").value_or(false);
  if (load.kind == LoadKind::Csv) {
    try {
      load.csv_rows = read_load_csv(load.csv_path, elements, load.voltage_v.value_or(nominal));
    } catch (const ConfigError& e) {
      r.fail("path", e.what());
    }
  }
  r.reject_unknown();
  return load;
}

// error_model = "exact" | "class-0.5", or a [meter.error_model] table of explicit points.
// Explicit curves may be out of class on purpose (a failing CT); they only have to be sane.
CtErrorModel parse_explicit_ct_error(TableReader& r) {
  const auto pct = r.numbers("current_pct");
  const auto ratio = r.numbers("ratio_error_pct");
  const auto phase = r.numbers("phase_error_min");
  if (!pct) r.fail_table("missing key current_pct (the curve's currents, % of the CT rating)");
  if (pct->empty() || pct->size() > 16) r.fail("current_pct", "needs 1..16 points");
  const std::size_t n = pct->size();
  const auto check_len = [&](const char* key, const std::optional<std::vector<double>>& v) {
    if (v && v->size() != n)
      r.fail(key, fmt::format("needs {} entries (one per current_pct), not {}", n, v->size()));
  };
  check_len("ratio_error_pct", ratio);
  check_len("phase_error_min", phase);
  CtErrorModel m;
  for (std::size_t k = 0; k < n; ++k) {
    CtErrorPoint p{(*pct)[k], ratio ? (*ratio)[k] : 0.0, phase ? (*phase)[k] : 0.0};
    if (p.current_pct <= 0 || p.current_pct > 200)
      r.fail("current_pct",
             fmt::format("entry {} must be above 0 and at most 200, not {}", k + 1, p.current_pct));
    if (k > 0 && p.current_pct <= m.curve.back().current_pct)
      r.fail("current_pct", fmt::format("must be ascending: entry {} ({}) is not above {}", k + 1,
                                        p.current_pct, m.curve.back().current_pct));
    if (std::abs(p.ratio_error_pct) > 10)
      r.fail("ratio_error_pct",
             fmt::format("entry {} must be between -10 and 10, not {}", k + 1, p.ratio_error_pct));
    if (std::abs(p.phase_error_min) > 600)
      r.fail("phase_error_min",
             fmt::format("entry {} must be between -600 and 600 (10 deg), not {}", k + 1,
                         p.phase_error_min));
    m.curve.push_back(p);
  }
  m.temperature_ppm_per_c = r.number_in("temperature_ppm_per_c", 0.0, -1000.0, 1000.0);
  m.frequency_ppm_per_hz = r.number_in("frequency_ppm_per_hz", 0.0, -10000.0, 10000.0);
  r.reject_unknown();
  return m;
}

void parse_error_model(TableReader& r, MeterSpec& m) {
  const toml::node* n = r.table().get("error_model");
  if (!n) return;
  if (n->is_table()) {
    TableReader er(*r.sub_table("error_model"), r.full("error_model"), r.file());
    m.error_model = ErrorModelKind::Explicit;
    m.explicit_ct_error = parse_explicit_ct_error(er);
    return;
  }
  if (!n->is_string())
    r.fail("error_model", "must be \"exact\", \"class-0.5\" or a table of points");
  const std::string em = *r.string("error_model");
  if (em == "class-0.5") {
    m.error_model = ErrorModelKind::Class05;
  } else if (em != "exact") {
    r.fail("error_model", fmt::format("'{}': must be \"exact\", \"class-0.5\" or a table", em));
  }
}

}  // namespace

FleetConfig parse_fleet_config(std::string_view toml_text, const std::string& source) {
  FleetConfig cfg;
  cfg.source = source;
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: {}", source, b.line, b.column, e.description()));
  }
  const std::filesystem::path base_dir = std::filesystem::path(source).parent_path();
  TableReader top(root, "", cfg.source);
  if (auto s = top.integer("seed")) {
    if (*s < 0) top.fail("seed", "must not be negative");
    cfg.seed = static_cast<std::uint64_t>(*s);
  }
  if (auto lr = top.seconds("load_resolution_s")) {
    if (*lr < 1'000'000'000 || *lr > 3600LL * 1'000'000'000)
      top.fail("load_resolution_s", "must be between 1 and 3600 seconds");
    cfg.load_resolution_ns = *lr;
  }
  cfg.max_drift_ppm = top.number_in("max_drift_ppm", 20.0, 0.0, 1000.0);

  std::map<std::string, std::size_t> bus_index;
  for (const toml::table* bt : top.table_array("bus")) {
    TableReader r(*bt, fmt::format("bus[{}]", cfg.buses.size()), cfg.source);
    BusConfig b;
    b.name = r.string("name").value_or(cfg.buses.empty() ? "main" : "");
    if (b.name.empty()) r.fail_table("missing key name");
    if (b.name.find_first_of("=: \t") != std::string::npos)
      r.fail("name", "must not contain '=', ':' or spaces");
    if (bus_index.count(b.name)) r.fail("name", "duplicate bus name '" + b.name + "'");
    b.bit_error_rate = r.number_in("bit_error_rate", 0.0, 0.0, 0.5);
    b.byte_drop_rate = r.number_in("byte_drop_rate", 0.0, 0.0, 1.0);
    b.garbage_per_hour = r.number_in("garbage_per_hour", 0.0, 0.0, 3.6e6);
    b.garbage_max_bytes = static_cast<int>(r.number_in("garbage_max_bytes", 8, 1, 64));
    if (auto lat = r.seconds("tx_latency_s")) {
      if (*lat > 1'000'000'000) r.fail("tx_latency_s", "must be at most 1 second");
      b.tx_latency_ns = *lat;
    }
    r.reject_unknown();
    bus_index[b.name] = cfg.buses.size();
    cfg.buses.push_back(std::move(b));
  }
  if (cfg.buses.empty()) {
    cfg.buses.push_back(BusConfig{});
    bus_index["main"] = 0;
  }

  for (const toml::table* mt : top.table_array("meter")) {
    TableReader r(*mt, fmt::format("meter[{}]", cfg.meters.size()), cfg.source);
    MeterSpec m;
    m.source_line = static_cast<int>(mt->source().begin.line);
    const auto id = r.integer("id");
    if (!id) r.fail_table("missing key id (the meter ID, 0..65535)");
    if (*id < 0 || *id > 65535) r.fail("id", "must be between 0 and 65535");
    m.id = static_cast<std::uint16_t>(*id);
    m.bus = r.string("bus").value_or(cfg.buses.front().name);
    auto bi = bus_index.find(m.bus);
    if (bi == bus_index.end()) r.fail("bus", "no [[bus]] is named '" + m.bus + "'");
    m.bus_index = bi->second;
    const auto model = r.string("model");
    if (!model) r.fail_table("missing key model (e.g. \"S2-480-N-01-01-041-01\")");
    m.model = *model;
    auto parsed = protocol::parse_model_number(m.model);
    if (!parsed)
      r.fail("model", fmt::format("'{}': bad {} field at position {}: expected {}", m.model,
                                  protocol::to_string(parsed.error().field),
                                  parsed.error().position, parsed.error().expected));
    m.model_config = *parsed;
    m.demand = r.boolean("demand");
    parse_error_model(r, m);
    m.power_up_ns = r.seconds("power_up_s");
    if (auto d = r.number("drift_ppm")) {
      if (std::abs(*d) > 1000.0) r.fail("drift_ppm", "must be between -1000 and 1000");
      m.drift_ppm = *d;
    }
    const toml::table* lt = r.sub_table("load");
    if (!lt) r.fail_table("missing table [meter.load]");
    TableReader lr(*lt, r.full("load"), cfg.source);
    m.load = parse_load(lr, m.model_config, base_dir);

    const int elements = m.model_config.elements;
    if (const toml::table* wt = r.sub_table("wiring")) {
      TableReader wr(*wt, r.full("wiring"), cfg.source);
      if (auto rev = wr.ints("reversed")) {
        for (int e : *rev)
          if (e < 1 || e > elements)
            wr.fail("reversed",
                    fmt::format("element {} does not exist (this model has {})", e, elements));
        m.wiring.reversed = *rev;
      }
      if (auto lines = wr.ints("ct_on_line")) {
        if (static_cast<int>(lines->size()) != elements)
          wr.fail("ct_on_line", fmt::format("needs {} entries (one per element)", elements));
        for (int l : *lines)
          if (l < 1 || l > elements)
            wr.fail("ct_on_line", fmt::format("line {} does not exist (lines 1..{})", l, elements));
        m.wiring.ct_on_line = *lines;
      }
      if (auto sets = wr.ints("ct_sets")) {
        if (static_cast<int>(sets->size()) != elements)
          wr.fail("ct_sets", fmt::format("needs {} entries (one per element)", elements));
        for (int n : *sets)
          if (n < 1 || n > 3) wr.fail("ct_sets", "each element has 1..3 paralleled CT sets");
        m.wiring.ct_sets = *sets;
      }
      wr.reject_unknown();
    }
    for (const toml::table* kt : r.table_array("key_press")) {
      TableReader kr(*kt, r.full("key_press"), cfg.source);
      KeyPress k;
      const auto at = kr.seconds("at_s");
      if (!at) kr.fail_table("missing key at_s");
      k.at_ns = *at;
      k.hold_ns = kr.seconds("hold_s").value_or(500'000'000);
      if (k.hold_ns > 60'000'000'000) kr.fail("hold_s", "must be at most 60 seconds");
      kr.reject_unknown();
      m.key_presses.push_back(k);
    }
    std::sort(m.key_presses.begin(), m.key_presses.end(),
              [](const KeyPress& a, const KeyPress& b) { return a.at_ns < b.at_ns; });
    for (std::size_t i = 1; i < m.key_presses.size(); ++i)
      if (m.key_presses[i].at_ns < m.key_presses[i - 1].at_ns + m.key_presses[i - 1].hold_ns)
        r.fail("key_press", "key presses overlap");
    for (const toml::table* ot : r.table_array("outage")) {
      TableReader orr(*ot, r.full("outage"), cfg.source);
      Outage o;
      const auto from = orr.seconds("from_s");
      const auto to = orr.seconds("to_s");
      if (!from) orr.fail_table("missing key from_s");
      if (!to) orr.fail_table("missing key to_s");
      if (*to <= *from) orr.fail("to_s", "must be after from_s");
      o.from_ns = *from;
      o.to_ns = *to;
      orr.reject_unknown();
      m.outages.push_back(o);
    }
    std::sort(m.outages.begin(), m.outages.end(),
              [](const Outage& a, const Outage& b) { return a.from_ns < b.from_ns; });
    r.reject_unknown();
    cfg.meters.push_back(std::move(m));
  }
  top.reject_unknown();
  return cfg;
}

FleetConfig load_fleet_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return parse_fleet_config(s.str(), path);
}

namespace {

std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t p = 0;
  while (true) {
    const std::size_t c = line.find(',', p);
    std::string_view f =
        line.substr(p, c == std::string_view::npos ? std::string_view::npos : c - p);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r'))
      f.remove_suffix(1);
    out.push_back(f);
    if (c == std::string_view::npos) break;
    p = c + 1;
  }
  return out;
}

}  // namespace

std::vector<CsvRow> read_load_csv(const std::string& path, int elements,
                                  const std::array<double, kMaxElements>& voltage_v) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::string line;
  std::size_t line_no = 0;
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
  auto fail = [&](const std::string& why) -> void {
    throw ConfigError(fmt::format("{}:{}: {}", path, line_no, why));
  };
  // Column indexes.
  int col_t = -1, col_kw = -1, col_pf = -1;
  std::array<int, kMaxElements> col_i{-1, -1, -1}, col_pfe{-1, -1, -1};
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r" || line[0] == '#') continue;
    const auto f = split_csv(line);
    if (header.empty()) {
      for (std::size_t i = 0; i < f.size(); ++i) {
        const std::string name(f[i]);
        header.push_back(name);
        const int idx = static_cast<int>(i);
        if (name == "t_s")
          col_t = idx;
        else if (name == "kw")
          col_kw = idx;
        else if (name == "pf")
          col_pf = idx;
        else if (name.size() == 4 && name[0] == 'i' && name.substr(2) == "_a" && name[1] >= '1' &&
                 name[1] <= '3')
          col_i[static_cast<std::size_t>(name[1] - '1')] = idx;
        else if (name.size() == 3 && name.substr(0, 2) == "pf" && name[2] >= '1' && name[2] <= '3')
          col_pfe[static_cast<std::size_t>(name[2] - '1')] = idx;
        else
          fail("unknown column '" + name + "' (t_s, i1_a..i3_a, pf, pf1..pf3, kw)");
      }
      if (col_t < 0) fail("the header needs a t_s column");
      const bool by_current = col_i[0] >= 0;
      if (by_current == (col_kw >= 0)) fail("the header needs either i1_a.. or kw (not both)");
      if (by_current)
        for (int e = 0; e < elements; ++e)
          if (col_i[static_cast<std::size_t>(e)] < 0)
            fail(fmt::format("missing column i{}_a", e + 1));
      continue;
    }
    if (f.size() != header.size())
      fail(fmt::format("{} fields, the header has {}", f.size(), header.size()));
    auto num = [&](int col) {
      const std::string s(f[static_cast<std::size_t>(col)]);
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
        fail("'" + s + "' in column " + header[static_cast<std::size_t>(col)] + " is not a number");
      return v;
    };
    CsvRow row;
    const double t = num(col_t);
    const auto t_ns = seconds_to_ns(t);
    if (!t_ns) fail("t_s must be a non-negative number of seconds");
    row.t_ns = *t_ns;
    if (!rows.empty() && row.t_ns <= rows.back().t_ns) fail("t_s must increase");
    for (int e = 0; e < elements; ++e) {
      const auto ue = static_cast<std::size_t>(e);
      double pf = col_pfe[ue] >= 0 ? num(col_pfe[ue]) : col_pf >= 0 ? num(col_pf) : 1.0;
      if (pf <= 0.0 || pf > 1.0) fail("power factor must be in (0, 1]");
      row.pf[ue] = pf;
    }
    if (col_kw >= 0) {
      const double kw = num(col_kw);
      if (kw < 0.0) fail("kw must not be negative");
      for (int e = 0; e < elements; ++e) {
        const auto ue = static_cast<std::size_t>(e);
        const double v = voltage_v[ue];
        row.current_a[ue] = v > 0.0 ? kw * 1000.0 / elements / (v * row.pf[ue]) : 0.0;
      }
    } else {
      for (int e = 0; e < elements; ++e) {
        const double a = num(col_i[static_cast<std::size_t>(e)]);
        if (a < 0.0 || a > 10000.0) fail("current must be between 0 and 10000 A");
        row.current_a[static_cast<std::size_t>(e)] = a;
      }
    }
    rows.push_back(row);
  }
  if (rows.empty()) throw ConfigError(path + ": no data rows");
  return rows;
}

}  // namespace imsm::sim
