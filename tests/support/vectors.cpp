#include "support/vectors.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/hex.h"

namespace imsm::test {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const nlohmann::json& guide_vectors() {
  static const nlohmann::json j = nlohmann::json::parse(read_text_file(IMSM_VECTORS_PATH));
  return j;
}

std::vector<std::uint8_t> bytes_from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  if (parse_hex(hex, out)) throw std::runtime_error("bad hex in test data: " + hex);
  return out;
}

const std::vector<FrameVector>& frame_vectors() {
  static const std::vector<FrameVector> v = [] {
    std::vector<FrameVector> out;
    for (const auto& f : guide_vectors().at("frames")) {
      FrameVector fv;
      fv.name = f.at("name").get<std::string>();
      fv.raw = bytes_from_hex(f.at("raw").get<std::string>());
      fv.meter_id = f.at("meter_id").get<std::uint16_t>();
      fv.peak_demand_counts = f.at("peak_demand_counts").get<std::uint16_t>();
      fv.peak_demand_kw = f.at("peak_demand_kw").get<std::string>();
      fv.demand_resets = f.at("demand_resets").get<std::uint8_t>();
      fv.total_kwh = f.at("total_kwh").get<std::uint32_t>();
      out.push_back(fv);
    }
    return out;
  }();
  return v;
}

}  // namespace imsm::test
