// Model numbers (guide 2.1, Figures 3 and 4; SPEC "Model numbers").
#include "protocol/model_number.h"

#include <gtest/gtest.h>

#include <string>

#include "support/vectors.h"

namespace imsm::protocol {
namespace {

void expect_matches(const ModelConfig& m, const nlohmann::json& e, const std::string& what) {
  EXPECT_EQ(m.format == ModelFormat::Old ? "old" : "new", e.at("format").get<std::string>())
      << what;
  EXPECT_EQ(m.series, e.at("series").get<int>()) << what;
  EXPECT_EQ(to_string(m.service), e.at("service").get<std::string>()) << what;
  EXPECT_EQ(m.elements, e.at("elements").get<int>()) << what;
  EXPECT_EQ(to_string(m.nominal_voltage), e.at("nominal_voltage").get<std::string>()) << what;
  EXPECT_EQ(m.ct_primary_a, e.at("ct_primary_a").get<int>()) << what;
  EXPECT_EQ(m.ct_secondary_ma, static_cast<int>(e.at("ct_secondary_a").get<double>() * 1000 + 0.5))
      << what;
  if (e.at("ct_type").is_null()) {
    EXPECT_FALSE(m.ct_type) << what;
  } else {
    EXPECT_EQ(to_string(*m.ct_type), e.at("ct_type").get<std::string>()) << what;
  }
  if (e.at("enclosure").is_null()) {
    EXPECT_FALSE(m.enclosure) << what;
  } else {
    EXPECT_EQ(std::string(1, *m.enclosure), e.at("enclosure").get<std::string>()) << what;
  }
  if (e.at("capacity").is_null()) {
    EXPECT_FALSE(m.capacity) << what;
  } else {
    EXPECT_EQ(*m.capacity, e.at("capacity").get<int>()) << what;
  }
  if (e.at("demand").is_null()) {
    EXPECT_FALSE(m.demand) << what;
  } else {
    EXPECT_EQ(*m.demand, e.at("demand").get<bool>()) << what;
  }
}

TEST(ModelNumber, Guide2_1_VectorsParse) {
  for (const auto& v : test::guide_vectors().at("models")) {
    const std::string number = v.at("number");
    auto m = parse_model_number(number);
    ASSERT_TRUE(m) << number << ": " << to_string(m.error().field);
    expect_matches(*m, v.at("expect"), number);
  }
}

TEST(ModelNumber, Guide2_1_SeparatorsAreOptionalAndCaseFree) {
  for (const auto& v : test::guide_vectors().at("models")) {
    std::string number = v.at("number");
    std::string compact, spaced;
    for (char ch : number) {
      if (ch == '-') {
        spaced += ' ';
      } else {
        compact += ch;
        spaced += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
    }
    auto a = parse_model_number(number), b = parse_model_number(compact),
         c = parse_model_number(spaced);
    ASSERT_TRUE(a && b && c) << number;
    EXPECT_EQ(*a, *b) << compact;
    EXPECT_EQ(*a, *c) << spaced;
  }
}

TEST(ModelNumber, Guide2_1_OldFormatEveryWiresAndVoltage) {
  struct Case {
    const char* number;
    Service service;
    NominalVoltage voltage;
    int elements;
  } cases[] = {
      {"BL2-120-100-PKG-SP", Service::OnePhase2W, NominalVoltage::V120, 1},
      {"BL2-277-100-PKG-SP", Service::OnePhase2W, NominalVoltage::V277, 1},
      {"BL3-208-100-PKG-SO", Service::OnePhase3W, NominalVoltage::V120_208, 2},
      {"BL3-240-100-PKG-SO", Service::OnePhase3W, NominalVoltage::V120_240, 2},
      {"BL3-480-100-PKG-SO", Service::OnePhase3W, NominalVoltage::V277_480, 2},
      {"BL-208-100-PKG-SO", Service::ThreePhaseWye, NominalVoltage::V120_208, 3},
      {"BL-480-1200-PKG-SO", Service::ThreePhaseWye, NominalVoltage::V277_480, 3},
      {"BL600800PKGSO", Service::ThreePhaseWye, NominalVoltage::V347_600, 3},
      {"BL208400GLPKGSO", Service::ThreePhaseDelta, NominalVoltage::V120_208, 3},
  };
  for (const auto& c : cases) {
    auto m = parse_model_number(c.number);
    ASSERT_TRUE(m) << c.number << ": " << to_string(m.error().field);
    EXPECT_EQ(m->service, c.service) << c.number;
    EXPECT_EQ(m->nominal_voltage, c.voltage) << c.number;
    EXPECT_EQ(m->elements, c.elements) << c.number;
    EXPECT_EQ(m->series, c.elements == 3 ? 2000 : 1000) << c.number;
  }
  EXPECT_EQ(parse_model_number("BL-480-1200-PKG-SO")->ct_primary_a, 1200);
}

TEST(ModelNumber, Guide2_1_NewFormatCtRatingsAndOptions) {
  struct Case {
    const char* rating;
    int primary, secondary_ma;
  } ratings[] = {{"011", 100, 100}, {"021", 200, 100}, {"022", 200, 200}, {"041", 400, 100},
                 {"061", 600, 100}, {"081", 800, 100}, {"121", 1200, 100}};
  for (const auto& r : ratings) {
    const std::string n = std::string("S1-240-X-12-03-") + r.rating + "-00";
    auto m = parse_model_number(n);
    ASSERT_TRUE(m) << n;
    EXPECT_EQ(m->ct_primary_a, r.primary) << n;
    EXPECT_EQ(m->ct_secondary_ma, r.secondary_ma) << n;
    EXPECT_EQ(m->demand, false) << n;
    EXPECT_EQ(m->capacity, 12);
    EXPECT_EQ(m->installed, 3);
  }
  EXPECT_TRUE(parse_model_number("S1-208-L-04-04-041-02")->three_phase_feed);
  EXPECT_EQ(parse_model_number("S1-277-R-01-01-011-01")->service, Service::OnePhase2W);
  EXPECT_EQ(parse_model_number("S2-600-M-02-01-121-01")->nominal_voltage, NominalVoltage::V347_600);
}

TEST(ModelNumber, Guide2_1_InvalidNumbersNameTheField) {
  struct Case {
    const char* number;
    ModelField field;
  } cases[] = {
      {"", ModelField::Empty},
      {"XX-480-N-01-01-041-01", ModelField::Series},
      {"S3-480-N-01-01-041-01", ModelField::Series},
      {"S2-240-N-01-01-041-01", ModelField::Voltage},  // S2 has no 240
      {"S1-600-N-01-01-041-01", ModelField::Voltage},
      {"S2-480-Q-01-01-041-01", ModelField::Enclosure},
      {"S2-480-N-00-01-041-01", ModelField::Capacity},
      {"S2-480-N-02-03-041-01", ModelField::Installed},  // installed > capacity
      {"S2-480-N-01-01-051-01", ModelField::CtRating},
      {"S2-480-N-01-01-041-03", ModelField::Options},
      {"S2-480-N-01-01-041-01-7", ModelField::Trailing},
      // A separator splits the voltage: the voltage is blamed, not the separator (issue 14).
      {"S2-48-0N-01-01-041-01", ModelField::Voltage},
      {"S2-480N-01-01-041-0-1", ModelField::Options},
      {"S2-480-N-01-01-041-01-", ModelField::Separator},
      {"BL2-240-200-PKG-SP", ModelField::Voltage},  // 2-wire is 120 or 277
      {"BL3-600-200-PKG-SP", ModelField::Voltage},
      {"BL-240-200-PKG-SP", ModelField::Voltage},  // 3-phase has no 240
      {"BL3-240-300-PKG-SP", ModelField::CtRatio},
      {"BL3-240-200-GL-PKG-SP", ModelField::Configuration},  // GL only on 3-phase
      {"BL-480-200-GL-PKG-SP", ModelField::Configuration},   // GL only 120/208
      {"BL3-240-200-SP", ModelField::Package},
      {"BL3-240-200-PKG-SX", ModelField::CtType},
      {"BL3-240-200-PKG", ModelField::CtType},
  };
  for (const auto& c : cases) {
    auto m = parse_model_number(c.number);
    ASSERT_FALSE(m) << c.number;
    EXPECT_EQ(m.error().field, c.field) << c.number << " gave " << to_string(m.error().field);
    EXPECT_NE(std::string(m.error().expected), "") << c.number;
  }
}

TEST(ModelNumber, ErrorPositionPointsIntoTheInput) {
  auto m = parse_model_number("S2-480-N-01-01-051-01");
  ASSERT_FALSE(m);
  // Positions are 1-based columns: "S2-480-N-01-01-" is 15 characters, "051" starts at 16.
  EXPECT_EQ(m.error().position, 16u);
  auto o = parse_model_number("BL3-240-300-PKG-SP");
  EXPECT_EQ(o.error().position, 9u);  // "BL3-240-" is 8 characters
  // guide 2.1: capacity is two digits; "1-1" is a 1-digit capacity, not capacity 11.
  auto cap = parse_model_number("S2-480-N-1-1-041-01");
  ASSERT_FALSE(cap);
  EXPECT_EQ(cap.error().field, ModelField::Capacity);
  EXPECT_EQ(cap.error().position, 10u);  // "S2-480-N-" is 9 characters
  // The compact form has no separators to split a field: still parses.
  EXPECT_TRUE(parse_model_number("S2480N010104101"));
}

TEST(ModelNumber, ElementVoltagesIncludeTheHighLeg) {
  auto delta = parse_model_number("BL-208-400-GL-PKG-SO");
  ASSERT_TRUE(delta);
  EXPECT_DOUBLE_EQ(element_nominal_voltage_v(*delta, 0), 120.0);
  EXPECT_NEAR(element_nominal_voltage_v(*delta, 2), 207.846, 0.001);
  EXPECT_DOUBLE_EQ(element_nominal_voltage_v(*parse_model_number("S2-600-N-01-01-041-01"), 1),
                   347.0);
}

TEST(ModelNumber, GarbageNeverCrashes) {
  std::string s;
  for (int i = 0; i < 5000; ++i) {
    s.push_back(static_cast<char>((i * 7919) % 251));
    // Starts with a NUL byte, so no prefix of it is a model number.
    EXPECT_FALSE(parse_model_number(s));
  }
}

}  // namespace
}  // namespace imsm::protocol
