#include "telemetry/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sluice::telemetry {

namespace {
bool valid_metric_name(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) {
    return false;
  }
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
  });
}

bool valid_label_name(std::string_view n) {
  return valid_metric_name(n) && n.find(':') == std::string_view::npos && !n.starts_with("__");
}

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// name{a="x",b="y"[,le="0.5"]} value\n
void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& label_names, const LabelValues& values,
                   std::string_view le, double value) {
  out += name;
  out += suffix;
  if (!label_names.empty() || !le.empty()) {
    out += '{';
    for (std::size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      out += label_names[i];
      out += "=\"";
      out += escape_label_value(values[i]);
      out += '"';
    }
    if (!le.empty()) {
      out += label_names.empty() ? "le=\"" : ",le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}
}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  return fmt::format("{}", v);  // shortest round-trip form; integral values without ".0"
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string content_type() { return "text/plain; version=0.0.4; charset=utf-8"; }

// --- Histogram -------------------------------------------------------------------------------------------

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double v) noexcept {
  if (std::isnan(v)) {
    return;
  }
  // First bound >= v: buckets are "le" (less than or equal).
  auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

// --- Families --------------------------------------------------------------------------------------------

FamilyBase::FamilyBase(MetricType type, std::string name, std::string help,
                       std::vector<std::string> label_names)
    : type_(type), name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void FamilyBase::check_arity(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(fmt::format("metric {}: {} label values for {} label names", name_,
                                            values.size(), label_names_.size()));
  }
}

void FamilyBase::render_header(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_help(out, help_);
  out += "\n# TYPE ";
  out += name_;
  switch (type_) {
    case MetricType::kCounter:
      out += " counter\n";
      break;
    case MetricType::kGauge:
      out += " gauge\n";
      break;
    case MetricType::kHistogram:
      out += " histogram\n";
      break;
  }
}

template <class M>
void Family<M>::render(std::string& out) const {
  std::lock_guard lock(mu_);
  if (children_.empty()) {
    return;  // a labelled family nobody has used yet
  }
  render_header(out);
  for (const auto& [values, child] : children_) {
    if constexpr (std::is_same_v<M, Histogram>) {
      auto s = child->snapshot();
      for (std::size_t i = 0; i < buckets_.size(); ++i) {
        append_sample(out, name_, "_bucket", label_names_, values, format_value(buckets_[i]),
                      double(s.cumulative[i]));
      }
      append_sample(out, name_, "_bucket", label_names_, values, "+Inf", double(s.count));
      append_sample(out, name_, "_sum", label_names_, values, {}, s.sum);
      append_sample(out, name_, "_count", label_names_, values, {}, double(s.count));
    } else {
      append_sample(out, name_, {}, label_names_, values, {}, child->value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- Registry --------------------------------------------------------------------------------------------

template <class M>
Family<M>& Registry::get_or_create(MetricType type, std::string name, std::string help,
                                   std::vector<std::string> label_names, std::vector<double> buckets) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("invalid metric name: " + name);
  }
  for (const auto& l : label_names) {
    if (!valid_label_name(l) || (type == MetricType::kHistogram && l == "le")) {
      throw std::invalid_argument(fmt::format("metric {}: invalid label name: {}", name, l));
    }
  }
  if (type == MetricType::kHistogram) {
    if (buckets.empty() ||
        std::adjacent_find(buckets.begin(), buckets.end(), std::greater_equal<>()) != buckets.end()) {
      throw std::invalid_argument("metric " + name + ": buckets must be non-empty and strictly increasing");
    }
    if (std::isinf(buckets.back())) {
      buckets.pop_back();  // +Inf is always implied
    }
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* f = dynamic_cast<Family<M>*>(it->second.get());
    if (f == nullptr || f->type() != type || f->label_names() != label_names) {
      throw std::invalid_argument("metric " + name + " registered again with another type or labels");
    }
    return *f;
  }
  auto fam =
      std::make_unique<Family<M>>(type, name, std::move(help), std::move(label_names), std::move(buckets));
  auto& ref = *fam;
  families_.emplace(std::move(name), std::move(fam));
  return ref;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return get_or_create<Counter>(MetricType::kCounter, std::move(name), std::move(help),
                                std::move(label_names), {});
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return get_or_create<Gauge>(MetricType::kGauge, std::move(name), std::move(help), std::move(label_names),
                              {});
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<double> buckets,
                                       std::vector<std::string> label_names) {
  return get_or_create<Histogram>(MetricType::kHistogram, std::move(name), std::move(help),
                                  std::move(label_names), std::move(buckets));
}

std::uint64_t Registry::add_collector(std::function<void()> refresh) {
  std::lock_guard lock(collect_mu_);
  auto id = next_collector_++;
  collectors_.emplace(id, std::move(refresh));
  return id;
}

void Registry::remove_collector(std::uint64_t id) {
  std::lock_guard lock(collect_mu_);
  collectors_.erase(id);
}

std::optional<double> Registry::counter_total(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end() || it->second->type() != MetricType::kCounter) {
    return std::nullopt;
  }
  return static_cast<const Family<Counter>&>(*it->second).total();
}

std::string Registry::expose() {
  {
    std::lock_guard lock(collect_mu_);
    for (auto& [id, refresh] : collectors_) {
      refresh();
    }
  }
  std::string out;
  out.reserve(16 * 1024);
  std::lock_guard lock(mu_);
  for (const auto& [name, fam] : families_) {
    fam->render(out);
  }
  return out;
}

Registry& metrics() {
  static Registry r;
  return r;
}

}  // namespace sluice::telemetry
