// The application edge's two failure kinds; main() turns them into exit codes 2 and 1.
#pragma once

#include <stdexcept>
#include <string>

namespace imsm::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

// Bad arguments or bad input data: exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The environment failed us (unreadable file, lost device): exit 1.
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace imsm::cli
