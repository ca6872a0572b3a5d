// The --html page: the summary, latency CDFs and throughput over time as inline SVG (no scripts, no
// external assets), so the file can be attached to an issue or opened offline.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "bench/report.h"

namespace sluice::bench {

namespace {
struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;
};

struct Axes {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool x_log = false;
};

constexpr double kW = 720;
constexpr double kH = 300;
constexpr double kLeft = 60;
constexpr double kRight = 20;
constexpr double kTop = 30;
constexpr double kBottom = 45;

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Round number ≥ v from 1, 2, 5 × 10^k.
double nice_ceil(double v) {
  if (v <= 0) {
    return 1;
  }
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) {
      return m * p;
    }
  }
  return 10 * p;
}

std::string chart(const Axes& ax, const std::vector<Series>& series) {
  double x_min = 1e300;
  double x_max = -1e300;
  double y_max = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  std::string out = fmt::format(
      R"~(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="11">)~",
      kW, kH);
  out += fmt::format(R"~(<text x="{}" y="18" font-size="13" font-weight="bold">{}</text>)~", kLeft,
                     escape(ax.title));
  if (x_min > x_max) {
    out += fmt::format(R"~(<text x="{}" y="{}">no data</text></svg>)~", kLeft + 10, kH / 2);
    return out;
  }
  if (ax.x_log) {
    x_min = std::pow(10.0, std::floor(std::log10(std::max(x_min, 1e-3))));
    x_max = std::pow(10.0, std::ceil(std::log10(std::max(x_max, x_min * 10))));
  } else {
    x_min = 0;
    x_max = std::max(x_max, 1.0);
  }
  y_max = nice_ceil(y_max);
  const double pw = kW - kLeft - kRight;
  const double ph = kH - kTop - kBottom;
  auto px = [&](double x) {
    const double f = ax.x_log ? (std::log10(std::max(x, x_min)) - std::log10(x_min)) /
                                    (std::log10(x_max) - std::log10(x_min))
                              : (x - x_min) / (x_max - x_min);
    return kLeft + f * pw;
  };
  auto py = [&](double y) { return kTop + ph - y / y_max * ph; };
  // Grid and ticks.
  for (int i = 0; i <= 4; ++i) {
    const double y = y_max * i / 4;
    out += fmt::format(R"~(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#ddd"/>)~", kLeft,
                       py(y), kW - kRight, py(y));
    out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="end">{:g}</text>)~", kLeft - 5, py(y) + 4,
                       y);
  }
  if (ax.x_log) {
    for (double x = x_min; x <= x_max * 1.0001; x *= 10) {
      out += fmt::format(R"~(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#ddd"/>)~", px(x),
                         kTop, px(x), kTop + ph);
      out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{:g}</text>)~", px(x),
                         kTop + ph + 15, x);
    }
  } else {
    const double step = nice_ceil(x_max / 8);
    for (double x = 0; x <= x_max * 1.0001; x += step) {
      out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{:g}</text>)~", px(x),
                         kTop + ph + 15, x);
    }
  }
  out += fmt::format(R"~(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#999"/>)~", kLeft,
                     kTop, pw, ph);
  out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)~", kLeft + pw / 2,
                     kH - 8, escape(ax.x_label));
  out += fmt::format(
      R"~(<text x="14" y="{:.1f}" text-anchor="middle" transform="rotate(-90 14 {:.1f})">{}</text>)~",
      kTop + ph / 2, kTop + ph / 2, escape(ax.y_label));
  double legend_x = kW - kRight - 10;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    legend_x -= 12 + 7 * static_cast<double>(it->name.size());
    out += fmt::format(
        R"~(<rect x="{:.1f}" y="8" width="10" height="10" fill="{}"/><text x="{:.1f}" y="17">{}</text>)~",
        legend_x, it->color, legend_x + 13, escape(it->name));
  }
  for (const auto& s : series) {
    if (s.points.empty()) {
      continue;
    }
    std::string pts;
    for (const auto& [x, y] : s.points) {
      pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    }
    out +=
        fmt::format(R"~(<polyline fill="none" stroke="{}" stroke-width="1.8" points="{}"/>)~", s.color, pts);
    if (s.points.size() < 3) {  // too few points for a visible line
      for (const auto& [x, y] : s.points) {
        out += fmt::format(R"~(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/>)~", px(x), py(y), s.color);
      }
    }
  }
  out += "</svg>";
  return out;
}

// Cumulative share (%) at each bucket's upper value, in ms.
std::vector<std::pair<double, double>> cdf(const Histogram& h) {
  std::vector<std::pair<double, double>> out;
  if (h.count() == 0) {
    return out;
  }
  std::uint64_t seen = 0;
  for (const auto& [v, c] : h.buckets()) {
    seen += c;
    out.emplace_back(std::max(static_cast<double>(v), 1.0) / 1e3,
                     100.0 * static_cast<double>(seen) / static_cast<double>(h.count()));
  }
  return out;
}
}  // namespace

std::string format_html(const RunInfo& run) {
  const auto& r = run.recorder;
  std::string out =
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sluice bench</title>"
      "<style>body{font-family:sans-serif;margin:24px;max-width:780px}pre{background:#f6f6f6;padding:12px}"
      "</style></head><body>\n<h1>sluice bench</h1>\n";
  out += fmt::format("<p>Started {} UTC. Targets: ", escape(run.started_at));
  for (std::size_t i = 0; i < run.config.targets.size(); ++i) {
    out += (i ? ", " : "") + escape(run.config.targets[i].url);
  }
  out += ".</p>\n<pre>" + escape(format_table(run)) + "</pre>\n";
  std::vector<Series> lat{{"e2e (ok)~", "#1f77b4", cdf(r.e2e())}};
  if (run.config.stream) {
    lat.push_back({"TTFT", "#ff7f0e", cdf(r.ttft())});
  }
  if (run.config.open_loop) {
    lat.push_back({"send delay", "#7f7f7f", cdf(r.queued())});
  }
  out += "<p>" + chart({"Latency CDF", "latency (ms, log scale)~", "% of requests ≤", true}, lat) + "</p>\n";
  Series done{"completed/s", "#1f77b4", {}};
  Series ok{"ok/s", "#2ca02c", {}};
  Series tokens{"tokens/s", "#9467bd", {}};
  double step = 1;
  const auto tl = r.timeline(200, step);
  for (std::size_t i = 0; i < tl.size(); ++i) {
    // A point at the middle of each bucket, as a per-second rate; the last bucket may be partial.
    const double t = (static_cast<double>(i) + 0.5) * step;
    done.points.emplace_back(t, static_cast<double>(tl[i].completed) / step);
    ok.points.emplace_back(t, static_cast<double>(tl[i].ok) / step);
    tokens.points.emplace_back(t, static_cast<double>(tl[i].tokens) / step);
  }
  out += "<p>" +
         chart({"Throughput over time", "seconds since start", "requests per second", false}, {done, ok}) +
         "</p>\n";
  out +=
      "<p>" +
      chart({"Goodput over time", "seconds since start", "completion tokens per second", false}, {tokens}) +
      "</p>\n";
  out += "</body></html>\n";
  return out;
}

}  // namespace sluice::bench
