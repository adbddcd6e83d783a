#include "sim/accuracy_limits.h"

#include <cmath>

namespace imsm::sim {

const char* to_string(AccuracyClass c) {
  switch (c) {
    case AccuracyClass::Fidelity:
      return "fidelity";
    case AccuracyClass::Class05:
      return "0.5";
    case AccuracyClass::Class02:
      return "0.2";
  }
  return "?";
}

std::optional<AccuracyClass> accuracy_class_from(std::string_view s) {
  if (s == "fidelity") return AccuracyClass::Fidelity;
  if (s == "0.5") return AccuracyClass::Class05;
  if (s == "0.2") return AccuracyClass::Class02;
  return std::nullopt;
}

double limit_ppm(AccuracyClass c, double current_percent, double pf, bool harmonics) {
  const bool unity = std::fabs(pf) >= 0.999 && !harmonics;
  switch (c) {
    case AccuracyClass::Fidelity:
      if (harmonics) return 100;
      return current_percent < 1.0 ? 200 : 50;
    case AccuracyClass::Class05:
      return unity ? 5000 : 7500;
    case AccuracyClass::Class02:
      if (unity) return current_percent < 5.0 ? 4000 : 2000;
      return current_percent < 10.0 ? 5000 : 3000;
  }
  return 0;
}

}  // namespace imsm::sim
