#include "collector/sources/capture_identity.h"

#include <fmt/format.h>

#include <fstream>
#include <vector>

namespace imsm::collector {

std::optional<CaptureIdentity> identify_capture(const std::string& path, std::uint64_t prefix_len) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<char> buf(prefix_len);
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  const auto n = static_cast<std::uint64_t>(in.gcount());
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (std::uint64_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(buf[i]);
    h *= 0x100000001b3ULL;
  }
  return CaptureIdentity{n, fmt::format("{:016x}", h)};
}

bool same_capture(const std::string& path, const CaptureIdentity& known) {
  const auto now = identify_capture(path, known.prefix_len);
  return now && *now == known;
}

}  // namespace imsm::collector
