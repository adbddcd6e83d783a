// Pass limits of an accuracy point (research/metrology.md 1.5, 6.1; guide 1; SPEC "Accuracy
// class of the real meter"), in ppm of the true energy.
//
//   Fidelity  the emulator's own computational error (layer A, error model off):
//             50 ppm from 1 % to 120 % of rated current, 200 ppm below 1 %, 100 ppm with
//             harmonics.
//   Class05   the guide's class (ANSI C12.1 / C12.20 class 0.5 as the IMS states it):
//             +/-0.5 % at PF 1, +/-0.75 % at other power factors, 1 % to 120 %; the same
//             limits are applied below 1 % (the guide says nothing there).
//   Class02   C12.20 class 0.2 with the IEC 62053-22 class 0.2S table as its shape [R]:
//             PF 1: +/-0.4 % below 5 %, +/-0.2 % from 5 %; other PF: +/-0.5 % below 10 %,
//             +/-0.3 % from 10 %.
#pragma once

#include <optional>
#include <string_view>

namespace imsm::sim {

enum class AccuracyClass { Fidelity, Class05, Class02 };

[[nodiscard]] const char* to_string(AccuracyClass c);
[[nodiscard]] std::optional<AccuracyClass> accuracy_class_from(std::string_view s);

// |pf| >= 0.999 counts as unity. `harmonics`: the point carries harmonic power.
[[nodiscard]] double limit_ppm(AccuracyClass c, double current_percent, double pf, bool harmonics);

}  // namespace imsm::sim
