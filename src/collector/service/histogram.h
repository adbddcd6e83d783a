// A fixed-bucket histogram of integer observations (Prometheus' histogram: cumulative bucket
// counts for "le" upper bounds, a count and a sum), for the store writer's commit latency
// (microseconds) and batch size (frames). Exact integers: the exposition formats them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace imsm::collector::service {

class Histogram {
 public:
  Histogram() = default;
  // Upper bounds, ascending; +Inf is implicit (count()).
  Histogram(std::initializer_list<std::int64_t> bounds)
      : bounds_(bounds), counts_(bounds_.size(), 0) {}

  void observe(std::int64_t v) {
    ++count_;
    sum_ += v;
    for (std::size_t i = 0; i < bounds_.size(); ++i)
      if (v <= bounds_[i]) ++counts_[i];  // cumulative: every bucket whose bound holds v
  }
  [[nodiscard]] const std::vector<std::int64_t>& bounds() const { return bounds_; }
  // Observations <= bounds()[i].
  [[nodiscard]] const std::vector<std::uint64_t>& cumulative() const { return counts_; }
  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::int64_t sum() const { return sum_; }

 private:
  std::vector<std::int64_t> bounds_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::int64_t sum_ = 0;
};

}  // namespace imsm::collector::service
