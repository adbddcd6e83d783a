#include "collector/report/report.h"

#include <fmt/format.h>

namespace imsm::collector {

namespace {
__extension__ using i128 = __int128;
}  // namespace

std::string format_kwh(std::int64_t wh) {
  const bool neg = wh < 0;
  const std::int64_t a = neg ? -wh : wh;
  return fmt::format("{}{}.{:03}", neg ? "-" : "", a / 1000, a % 1000);
}

std::string format_cents(std::int64_t cents) {
  const bool neg = cents < 0;
  const std::int64_t a = neg ? -cents : cents;
  return fmt::format("{}{}.{:02}", neg ? "-" : "", a / 100, a % 100);
}

std::int64_t charge_cents(std::int64_t amount, Micros price_micros, std::int64_t divisor) {
  // amount x price / divisor micro-units = amount x price / (divisor x 10^4) cents.
  const i128 num = static_cast<i128>(amount) * price_micros;
  const i128 den = static_cast<i128>(divisor) * 10'000;
  const i128 q = num >= 0 ? (2 * num + den) / (2 * den) : -((-2 * num + den) / (2 * den));
  return static_cast<std::int64_t>(q);
}

}  // namespace imsm::collector
