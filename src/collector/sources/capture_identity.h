// Which capture a file holds (store.h CaptureIdentity): a hash of its first bytes, so a file
// replaced at a known path is told apart from the one journaled before, and a capture that
// only grew (appended to) is still the same one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "collector/store/store.h"

namespace imsm::collector {

inline constexpr std::uint64_t kCapturePrefix = 4096;

// The identity of the first min(size, prefix_len) bytes of `path`; nullopt when it cannot be
// read (the source reports that itself).
[[nodiscard]] std::optional<CaptureIdentity> identify_capture(
    const std::string& path, std::uint64_t prefix_len = kCapturePrefix);

// True when the file at `path` still begins with the bytes `known` identifies.
[[nodiscard]] bool same_capture(const std::string& path, const CaptureIdentity& known);

}  // namespace imsm::collector
