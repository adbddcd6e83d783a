#include "protocol/model_number.h"

#include <array>
#include <cctype>

namespace imsm::protocol {

const char* to_string(ModelField f) {
  switch (f) {
    case ModelField::Empty:
      return "model";
    case ModelField::Series:
      return "series";
    case ModelField::Wires:
      return "wires";
    case ModelField::Voltage:
      return "voltage";
    case ModelField::CtRatio:
      return "ct_ratio";
    case ModelField::Configuration:
      return "configuration";
    case ModelField::Package:
      return "package";
    case ModelField::CtType:
      return "ct_type";
    case ModelField::Enclosure:
      return "enclosure";
    case ModelField::Capacity:
      return "capacity";
    case ModelField::Installed:
      return "installed";
    case ModelField::CtRating:
      return "ct_rating";
    case ModelField::Options:
      return "options";
    case ModelField::Separator:
      return "separator";
    case ModelField::Trailing:
      return "end";
  }
  return "model";
}

const char* to_string(Service s) {
  switch (s) {
    case Service::OnePhase2W:
      return "1ph-2w";
    case Service::OnePhase3W:
      return "1ph-3w";
    case Service::ThreePhaseWye:
      return "3ph-4w-wye";
    case Service::ThreePhaseDelta:
      return "3ph-4w-delta";
  }
  return "";
}

const char* to_string(NominalVoltage v) {
  switch (v) {
    case NominalVoltage::V120:
      return "120";
    case NominalVoltage::V277:
      return "277";
    case NominalVoltage::V120_208:
      return "120/208";
    case NominalVoltage::V120_240:
      return "120/240";
    case NominalVoltage::V277_480:
      return "277/480";
    case NominalVoltage::V347_600:
      return "347/600";
  }
  return "";
}

const char* to_string(CtType t) {
  return t == CtType::Split ? "split" : "solid";
}

double element_nominal_voltage_v(const ModelConfig& c, int index) {
  if (c.service == Service::ThreePhaseDelta && index == 2)
    return 207.84609690826528;  // 120*sqrt(3)
  switch (c.nominal_voltage) {
    case NominalVoltage::V120:
    case NominalVoltage::V120_208:
    case NominalVoltage::V120_240:
      return 120.0;
    case NominalVoltage::V277:
    case NominalVoltage::V277_480:
      return 277.0;
    case NominalVoltage::V347_600:
      return 347.0;
  }
  return 120.0;
}

namespace {

constexpr std::size_t kMaxLen = 64;

bool is_separator(char ch) {
  return ch == '-' || ch == ' ' || ch == '\t' || ch == '_';
}

// Walks the model number with separators removed, remembering where they stood so that a
// separator inside a field is an error, and mapping positions back to the input for errors.
class Cursor {
 public:
  // Returns false when the text is too long to be a model number.
  bool load(std::string_view input) {
    std::size_t b = 0, e = input.size();
    while (b < e && std::isspace(static_cast<unsigned char>(input[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(input[e - 1]))) --e;
    input_end_ = e;
    for (std::size_t i = b; i < e; ++i) {
      const char ch = input[i];
      if (is_separator(ch)) {
        if (sep_count_ == kMaxLen) return false;
        sep_at_[sep_count_] = len_;
        sep_origin_[sep_count_] = i;
        ++sep_count_;
        continue;
      }
      if (len_ == kMaxLen) return false;
      text_[len_] = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      origin_[len_] = i;
      ++len_;
    }
    return true;
  }
  bool empty() const { return len_ == 0; }
  bool at_end() const { return pos_ >= len_; }
  std::size_t pos() const { return pos_; }
  std::size_t origin(std::size_t compact) const {
    return compact < len_ ? origin_[compact] : input_end_;
  }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < len_ ? text_[pos_ + ahead] : '\0';
  }
  bool looking_at(std::string_view s) const {
    for (std::size_t i = 0; i < s.size(); ++i)
      if (peek(i) != s[i]) return false;
    return true;
  }
  bool separator_before(std::size_t compact) const {
    for (std::size_t i = 0; i < sep_count_; ++i)
      if (sep_at_[i] == compact) return true;
    return false;
  }
  // Consumes s when it is next, and records the end of the field.
  bool take(std::string_view s) {
    if (!looking_at(s)) return false;
    advance(s.size());
    return true;
  }
  // A separator stands inside the next n characters ("1-1" read as a 2-digit field).
  bool separator_within(std::size_t n) const {
    for (std::size_t i = 1; i < n; ++i)
      if (separator_before(pos_ + i)) return true;
    return false;
  }
  // Consumes exactly n digits and returns their value, or -1 (consuming nothing). Digits
  // split by a separator are not one field: "S2-480-N-1-1-..." has a 1-digit capacity.
  int digits(std::size_t n) {
    if (separator_within(n)) return -1;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char ch = peek(i);
      if (ch < '0' || ch > '9') return -1;
      v = v * 10 + (ch - '0');
    }
    advance(n);
    return v;
  }
  // Every separator must stand between two fields; returns the first that does not.
  std::optional<std::size_t> misplaced_separator() const {
    for (std::size_t i = 0; i < sep_count_; ++i) {
      bool ok = false;
      for (std::size_t k = 0; k < boundary_count_; ++k) ok = ok || boundaries_[k] == sep_at_[i];
      if (!ok || sep_at_[i] == 0 || sep_at_[i] >= len_) return sep_origin_[i];
    }
    return std::nullopt;
  }

 private:
  void advance(std::size_t n) {
    pos_ += n;
    if (boundary_count_ < kMaxLen) boundaries_[boundary_count_++] = pos_;
  }

  std::array<char, kMaxLen> text_{};
  std::array<std::size_t, kMaxLen> origin_{};
  std::size_t len_ = 0;
  std::size_t input_end_ = 0;
  std::array<std::size_t, kMaxLen> sep_at_{};
  std::array<std::size_t, kMaxLen> sep_origin_{};
  std::size_t sep_count_ = 0;
  std::array<std::size_t, kMaxLen> boundaries_{};
  std::size_t boundary_count_ = 0;
  std::size_t pos_ = 0;
};

Unexpected<ModelError> fail(const Cursor& c, std::size_t field_start, ModelField f,
                            const char* expected) {
  return unexpected(ModelError{f, c.origin(field_start) + 1, expected});
}

Result<ModelConfig, ModelError> finish(const Cursor& c, ModelConfig m) {
  if (!c.at_end()) return fail(c, c.pos(), ModelField::Trailing, "nothing after the last field");
  if (auto s = c.misplaced_separator())
    return unexpected(ModelError{ModelField::Separator, *s + 1, "separators only between fields"});
  return m;
}

// Service, elements, series and nominal voltage from the rated voltage on the label (guide
// 2.1: line to neutral for 1-phase 2-wire, line to line otherwise). False when that voltage
// does not exist for the service.
bool set_service(ModelConfig& m, Service service, int volts) {
  struct Rated {
    Service service;
    int volts;
    NominalVoltage nominal;
  };
  static constexpr Rated kRated[] = {
      {Service::OnePhase2W, 120, NominalVoltage::V120},
      {Service::OnePhase2W, 277, NominalVoltage::V277},
      {Service::OnePhase3W, 208, NominalVoltage::V120_208},
      {Service::OnePhase3W, 240, NominalVoltage::V120_240},
      {Service::OnePhase3W, 480, NominalVoltage::V277_480},
      {Service::ThreePhaseWye, 208, NominalVoltage::V120_208},
      {Service::ThreePhaseWye, 480, NominalVoltage::V277_480},
      {Service::ThreePhaseWye, 600, NominalVoltage::V347_600},
  };
  for (const auto& r : kRated) {
    if (r.service != service || r.volts != volts) continue;
    m.service = service;
    m.nominal_voltage = r.nominal;
    m.elements = service == Service::OnePhase2W ? 1 : service == Service::OnePhase3W ? 2 : 3;
    m.series = service == Service::ThreePhaseWye ? 2000 : 1000;
    return true;
  }
  return false;
}

// Old format (guide 2.1, Figure 3).
Result<ModelConfig, ModelError> parse_old(Cursor& c) {
  ModelConfig m;
  m.format = ModelFormat::Old;
  m.ct_secondary_ma = 100;
  c.take("BL");

  // Wires digit: present when a separator follows it or a voltage valid for it does
  // ("BL3240..." has wires 3; "BL208..." has none, a 3-phase meter).
  int wires = 0;
  const char w = c.peek();
  if ((w == '2' || w == '3') &&
      (c.separator_before(c.pos() + 1) ||
       (w == '2' && (c.looking_at("2120") || c.looking_at("2277"))) ||
       (w == '3' && (c.looking_at("3208") || c.looking_at("3240") || c.looking_at("3480"))))) {
    wires = w - '0';
    c.take(std::string_view(&w, 1));
  }

  const std::size_t vstart = c.pos();
  const int volts = c.digits(3);
  const Service service = wires == 2   ? Service::OnePhase2W
                          : wires == 3 ? Service::OnePhase3W
                                       : Service::ThreePhaseWye;
  if (!set_service(m, service, volts))
    return fail(c, vstart, ModelField::Voltage,
                wires == 2   ? "120 or 277 (2-wire, line to neutral)"
                : wires == 3 ? "208, 240 or 480 (3-wire, line to line)"
                             : "wires 2 or 3, or a 3-phase voltage 208, 480 or 600 (line to line)");

  const std::size_t rstart = c.pos();
  if (c.take("1200")) {
    m.ct_primary_a = 1200;
  } else {
    const int ratio = c.digits(3);
    if (ratio != 100 && ratio != 200 && ratio != 400 && ratio != 600 && ratio != 800)
      return fail(c, rstart, ModelField::CtRatio, "100, 200, 400, 600, 800 or 1200 (N:0.1)");
    m.ct_primary_a = ratio;
  }

  const std::size_t gstart = c.pos();
  if (c.take("GL")) {
    if (m.series != 2000 || m.nominal_voltage != NominalVoltage::V120_208)
      return fail(c, gstart, ModelField::Configuration,
                  "GL (grounded delta) only on a 3-phase 208 V meter");
    m.service = Service::ThreePhaseDelta;
  }

  const std::size_t pstart = c.pos();
  if (!c.take("PKG")) return fail(c, pstart, ModelField::Package, "PKG (or GL then PKG)");

  const std::size_t tstart = c.pos();
  if (c.take("SP"))
    m.ct_type = CtType::Split;
  else if (c.take("SO"))
    m.ct_type = CtType::Solid;
  else
    return fail(c, tstart, ModelField::CtType, "SP (split core) or SO (solid core)");
  return finish(c, m);
}

// New format (guide 2.1, Figure 4).
Result<ModelConfig, ModelError> parse_new(Cursor& c) {
  ModelConfig m;
  m.format = ModelFormat::New;
  const bool s2 = c.looking_at("S2");
  c.take(s2 ? "S2" : "S1");

  const std::size_t vstart = c.pos();
  const int volts = c.digits(3);
  const Service service = s2                               ? Service::ThreePhaseWye
                          : (volts == 120 || volts == 277) ? Service::OnePhase2W
                                                           : Service::OnePhase3W;
  if (!set_service(m, service, volts))
    return fail(c, vstart, ModelField::Voltage,
                s2 ? "208, 480 or 600 for S2" : "120, 277, 208, 240 or 480 for S1");

  const std::size_t estart = c.pos();
  const char e = c.peek();
  if (e == '\0' || std::string_view("XLMSRN").find(e) == std::string_view::npos)
    return fail(c, estart, ModelField::Enclosure, "one of X, L, M, S, R, N");
  c.take(std::string_view(&e, 1));
  m.enclosure = e;

  const std::size_t cstart = c.pos();
  const int capacity = c.digits(2);
  if (capacity < 1) return fail(c, cstart, ModelField::Capacity, "two digits, 01 to 99");
  m.capacity = capacity;

  const std::size_t istart = c.pos();
  const int installed = c.digits(2);
  if (installed < 1 || installed > capacity)
    return fail(c, istart, ModelField::Installed, "two digits, 01 up to the capacity");
  m.installed = installed;

  struct Rating {
    const char* code;
    int primary_a;
    int secondary_ma;
  };
  static constexpr Rating kRatings[] = {{"011", 100, 100}, {"021", 200, 100}, {"022", 200, 200},
                                        {"041", 400, 100}, {"061", 600, 100}, {"081", 800, 100},
                                        {"121", 1200, 100}};
  const std::size_t rstart = c.pos();
  bool rated = false;
  for (const auto& r : kRatings) {
    if (!c.separator_within(3) && c.take(r.code)) {
      m.ct_primary_a = r.primary_a;
      m.ct_secondary_ma = r.secondary_ma;
      rated = true;
      break;
    }
  }
  if (!rated) return fail(c, rstart, ModelField::CtRating, "011, 021, 022, 041, 061, 081 or 121");

  const std::size_t ostart = c.pos();
  const int options = c.digits(2);
  if (options < 0 || options > 2)
    return fail(c, ostart, ModelField::Options, "00 (none), 01 (demand) or 02 (3-phase feed)");
  m.demand = options == 1;
  m.three_phase_feed = options == 2;
  return finish(c, m);
}

}  // namespace

Result<ModelConfig, ModelError> parse_model_number(std::string_view text) {
  Cursor c;
  if (!c.load(text))
    return unexpected(ModelError{ModelField::Trailing, kMaxLen + 1, "at most 64 characters"});
  if (c.empty()) return unexpected(ModelError{ModelField::Empty, 1, "a model number"});
  if (c.looking_at("BL")) return parse_old(c);
  if (c.looking_at("S1") || c.looking_at("S2")) return parse_new(c);
  return fail(c, 0, ModelField::Series, "BL (old format), S1 or S2 (new format)");
}

}  // namespace imsm::protocol
