// Deterministic random numbers for the simulator: the same seed gives the same fleet, the
// same noise and the same bytes on every platform (std:: distributions are not portable).
#pragma once

#include <cmath>
#include <cstdint>

namespace imsm::sim {

__extension__ using Uint128Rng = unsigned __int128;

// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator with a 64-bit state, good enough
// for load noise and line noise, and cheap to derive independent streams from.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : state_(seed) {}

  // An independent stream for (seed, salt, index), e.g. one per meter or per bus.
  [[nodiscard]] static Rng derive(std::uint64_t seed, std::uint64_t salt, std::uint64_t index) {
    Rng r(seed ^ (salt * 0x9E3779B97F4A7C15ull));
    r.state_ ^= r.next() + index * 0xD1B54A32D192ED03ull;
    (void)r.next();
    return r;
  }

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; the bias is below 2^-32).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<Uint128Rng>(next()) * n) >> 64);
  }
  // Standard normal (Box-Muller, one value per call).
  double normal() {
    double u1 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Trials until the next success of a Bernoulli(p) process (>= 1), for rare events.
  std::uint64_t geometric(double p) {
    if (p >= 1.0) return 1;
    double u = uniform();
    if (u < 1e-300) u = 1e-300;
    const double k = std::floor(std::log(u) / std::log1p(-p));
    return k >= 9.0e18 ? UINT64_MAX : static_cast<std::uint64_t>(k) + 1;
  }

 private:
  std::uint64_t state_;
};

}  // namespace imsm::sim
