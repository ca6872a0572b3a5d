#pragma once
// A small Prometheus metrics registry: counters, gauges and fixed-bucket histograms in families keyed by
// label values, plus collectors that refresh values kept elsewhere at scrape time, rendered as text format
// 0.0.4. Updates are relaxed atomics (no locks); Family::with takes a lock, so callers resolve their label
// sets once and keep the references (they are stable for the life of the registry).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace sluice::telemetry {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void inc(double v = 1.0) noexcept { v_.fetch_add(v, std::memory_order_relaxed); }
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }
  // For collectors mirroring a monotonic total kept elsewhere (CPU seconds from /proc).
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0.0};
};

class Gauge {
 public:
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(double v) noexcept { v_.fetch_add(v, std::memory_order_relaxed); }
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0.0};
};

class Histogram {
 public:
  // `bounds`: upper bounds, strictly increasing, without +Inf; owned by the family, outlives this.
  explicit Histogram(const std::vector<double>& bounds);
  // NaN is ignored (it would poison _sum forever).
  void observe(double v) noexcept;

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  // Counts are read bucket by bucket; _count is derived from them so the +Inf bucket always equals it.
  Snapshot snapshot() const;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1, the last one is +Inf
  std::atomic<double> sum_{0.0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

class FamilyBase {
 public:
  FamilyBase(MetricType type, std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual void render(std::string& out) const = 0;

 protected:
  void check_arity(const LabelValues& values) const;
  void render_header(std::string& out) const;

  MetricType type_;
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mu_;  // guards the children map (not the values: those are atomics)
};

template <class M>
class Family : public FamilyBase {
 public:
  Family(MetricType type, std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets = {})
      : FamilyBase(type, std::move(name), std::move(help), std::move(label_names)),
        buckets_(std::move(buckets)) {
    if (label_names_.empty()) {
      with({});  // an unlabelled metric exists (as 0) from registration on
    }
  }

  // Get-or-create the child for these label values (one per label name, in order). Takes a lock: resolve once
  // and keep the reference. Throws std::invalid_argument on a wrong number of values.
  M& with(const LabelValues& values) {
    check_arity(values);
    std::lock_guard lock(mu_);
    auto it = children_.find(values);
    if (it == children_.end()) {
      it = children_.emplace(values, make_child()).first;
    }
    return *it->second;
  }

  void render(std::string& out) const override;

  // The sum over every label set (counters and gauges).
  // A template, so that clang 14 does not instantiate it for Family<Histogram> despite the constraint.
  template <class T = M>
    requires(!std::is_same_v<T, Histogram>)
  double total() const {
    std::lock_guard lock(mu_);
    double sum = 0;
    for (const auto& [labels, child] : children_) {
      sum += child->value();
    }
    return sum;
  }

 private:
  std::unique_ptr<M> make_child() const {
    if constexpr (std::is_same_v<M, Histogram>) {
      return std::make_unique<M>(buckets_);
    } else {
      return std::make_unique<M>();
    }
  }

  const std::vector<double> buckets_;                   // histograms only
  std::map<LabelValues, std::unique_ptr<M>> children_;  // sorted: stable exposition order
};

class Registry {
 public:
  // Get-or-create by name: registering the same name again with the same type and labels returns the same
  // family; a different type or label set throws std::invalid_argument (so does an invalid name).
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<double> buckets,
                               std::vector<std::string> label_names = {});

  // Runs at scrape time for values that live elsewhere (set gauges from host state, queue depth, ...).
  // Returns an id for remove_collector (whoever owns the captured state removes it before dying).
  std::uint64_t add_collector(std::function<void()> refresh);
  void remove_collector(std::uint64_t id);

  std::string expose();  // Prometheus text format 0.0.4
  // The sum of a counter family's samples; nullopt when no counter of that name is registered. Cheap next to
  // expose(): no collectors run, nothing is rendered.
  std::optional<double> counter_total(const std::string& name);

 private:
  template <class M>
  Family<M>& get_or_create(MetricType type, std::string name, std::string help,
                           std::vector<std::string> label_names, std::vector<double> buckets);

  std::mutex mu_;          // guards families_
  std::mutex collect_mu_;  // guards collectors_; held while they run so removal waits for a running scrape
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;  // sorted by name
  std::map<std::uint64_t, std::function<void()>> collectors_;
  std::uint64_t next_collector_ = 1;
};

Registry& metrics();  // the process-wide registry

inline const std::vector<double> kLatencyBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 5, 7.5, 10, 15, 20, 30, 60, 120};

// Text-format helpers, exposed for tests.
std::string format_value(double v);                  // 1, 0.25, 1e-05, +Inf, -Inf, NaN
std::string escape_label_value(std::string_view v);  // \ → \\, " → \", newline → \n
std::string content_type();                          // "text/plain; version=0.0.4; charset=utf-8"

}  // namespace sluice::telemetry
