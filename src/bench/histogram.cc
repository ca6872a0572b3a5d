#include "bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::bench {

std::size_t Histogram::index_of(std::uint64_t value) {
  value = std::min(value, kMaxValue);
  if (value < 2 * kSubCount) {
    return static_cast<std::size_t>(value);
  }
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - kSubBits;  // value >> shift lies in [kSubCount, 2 * kSubCount)
  return static_cast<std::size_t>((static_cast<std::uint64_t>(shift) + 1) * kSubCount +
                                  ((value >> shift) - kSubCount));
}

std::uint64_t Histogram::lowest_of(std::size_t index) {
  if (index < 2 * kSubCount) {
    return index;
  }
  const std::uint64_t shift = index / kSubCount - 1;
  const std::uint64_t sub = index % kSubCount + kSubCount;
  return sub << shift;
}

std::uint64_t Histogram::highest_of(std::size_t index) {
  if (index < 2 * kSubCount) {
    return index;
  }
  const std::uint64_t shift = index / kSubCount - 1;
  const std::uint64_t sub = index % kSubCount + kSubCount;
  return ((sub + 1) << shift) - 1;
}

Histogram::Histogram() : counts_(index_of(kMaxValue) + 1, 0) {}

void Histogram::record(std::uint64_t value, std::uint64_t count) {
  if (count == 0) {
    return;
  }
  value = std::min(value, kMaxValue);
  counts_[index_of(value)] += count;
  count_ += count;
  sum_ += value * count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) {
    return 0;
  }
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the sample at q (1-based); q = 0 means the minimum.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::clamp(highest_of(i), min_, max_);
    }
  }
  return max_;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> Histogram::buckets() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) {
      out.emplace_back(std::min(highest_of(i), max_), counts_[i]);
    }
  }
  return out;
}

}  // namespace sluice::bench
