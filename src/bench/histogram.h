#pragma once
// A log-linear histogram in the spirit of HdrHistogram: exact below 2^(kSubBits+1), then 2^kSubBits linear
// sub-buckets per power of two, so any recorded value is known to within 1/2^kSubBits (0.8 %). Recording is
// one index computation and one increment; memory is fixed (a few thousand counters).
#include <cstdint>
#include <utility>
#include <vector>

namespace sluice::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSubCount = 1ULL << kSubBits;
  static constexpr std::uint64_t kMaxValue = (1ULL << 42) - 1;  // larger values are clamped

  Histogram();

  void record(std::uint64_t value, std::uint64_t count = 1);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The value at quantile q in [0, 1]: the highest value equivalent to the bucket holding it, clamped to
  // the exact max (0 when empty).
  std::uint64_t percentile(double q) const;
  // Non-empty buckets as (highest equivalent value, count), ascending.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets() const;

  static std::size_t index_of(std::uint64_t value);
  static std::uint64_t lowest_of(std::size_t index);
  static std::uint64_t highest_of(std::size_t index);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace sluice::bench
