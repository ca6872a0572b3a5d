#include "plan/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sluice::plan {

namespace {

constexpr double kChartW = 860;
constexpr double kChartH = 320;
constexpr double kPadLeft = 80;
constexpr double kPadRight = 170;  // legend
constexpr double kPadTop = 32;
constexpr double kPadBottom = 48;

// 1, 2 or 5 × 10^k at or above v.
double round_up_125(double v) {
  if (!(v > 0)) {
    return 1;
  }
  const double decade = std::pow(10.0, std::floor(std::log10(v)));
  for (double f : {1.0, 2.0, 5.0}) {
    if (f * decade >= v * (1 - 1e-12)) {
      return f * decade;
    }
  }
  return 10 * decade;
}

std::string tick_text(double v) {
  if (v >= 1e6) {
    return fmt::format("{:g}M", v / 1e6);
  }
  if (v >= 1e4) {
    return fmt::format("{:g}k", v / 1e3);
  }
  return fmt::format("{:g}", v);
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const char* rep = c == '<'   ? "&lt;"
                      : c == '>' ? "&gt;"
                      : c == '&' ? "&amp;"
                      : c == '"' ? "&quot;"
                                 : nullptr;
    if (rep != nullptr) {
      out += rep;
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_line_chart(const LineChart& c) {
  double y_max = 0;
  for (const auto& s : c.series) {
    for (const auto& [x, y] : s.points) {
      if (std::isfinite(y)) {
        y_max = std::max(y_max, y);
      }
    }
  }
  y_max = round_up_125(y_max * 1.05);
  const double pw = kChartW - kPadLeft - kPadRight;
  const double ph = kChartH - kPadTop - kPadBottom;
  const double span = c.x_max > c.x_min ? c.x_max - c.x_min : 1;
  auto px = [&](double x) { return kPadLeft + (x - c.x_min) / span * pw; };
  auto py = [&](double y) { return kPadTop + ph - std::clamp(y, 0.0, y_max) / y_max * ph; };
  std::string out = fmt::format(
      R"~(<svg id="{}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" )~"
      R"~(font-family="sans-serif" font-size="11"><text x="{}" y="18" font-size="13" font-weight="bold">{}</text>)~",
      c.id, kChartW, kChartH, kChartW, kChartH, kPadLeft, html_escape(c.title));
  for (int i = 0; i <= 5; ++i) {
    const double y = y_max * i / 5;
    out += fmt::format(R"~(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#e3e3e3"/>)~",
                       kPadLeft, py(y), kPadLeft + pw, py(y));
    out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="end">{}</text>)~", kPadLeft - 6,
                       py(y) + 4, tick_text(y));
  }
  for (const auto& [x, label] : c.x_ticks) {
    out += fmt::format(R"~(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#eee"/>)~",
                       px(x), kPadTop, kPadTop + ph);
    out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)~", px(x),
                       kPadTop + ph + 15, html_escape(label));
  }
  out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)~", kPadLeft + pw / 2,
                     kChartH - 8, html_escape(c.x_label));
  out += fmt::format(R"~(<text transform="translate(14 {:.1f}) rotate(-90)" text-anchor="middle">{}</text>)~",
                     kPadTop + ph / 2, html_escape(c.y_label));
  double legend_y = kPadTop + 6;
  for (const auto& s : c.series) {
    std::string pts;
    for (std::size_t i = 0; i < s.points.size(); ++i) {
      const auto [x, y] = s.points[i];
      pts += fmt::format("{}{:.1f},{:.1f}", pts.empty() ? "" : " ", px(x), py(y));
      if (s.step) {
        const double next = i + 1 < s.points.size() ? s.points[i + 1].first : c.x_max;
        pts += fmt::format(" {:.1f},{:.1f}", px(next), py(y));
      }
    }
    out += fmt::format(
        R"~(<polyline class="series" data-series="{}" fill="none" stroke="{}" stroke-width="1.8"{} points="{}"/>)~",
        html_escape(s.name), s.color, s.dashed ? R"~( stroke-dasharray="5 3")~" : "", pts);
    out += fmt::format(
        R"~(<line x1="{0:.1f}" y1="{1:.1f}" x2="{2:.1f}" y2="{1:.1f}" stroke="{3}" stroke-width="2"{4}/>)~",
        kPadLeft + pw + 12, legend_y, kPadLeft + pw + 34, s.color,
        s.dashed ? R"~( stroke-dasharray="5 3")~" : "");
    out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}">{}</text>)~", kPadLeft + pw + 40, legend_y + 4,
                       html_escape(s.name));
    legend_y += 16;
  }
  for (const auto& m : c.markers) {
    out += fmt::format(
        R"~(<circle class="marker" cx="{:.1f}" cy="{:.1f}" r="4" fill="#000"><title>{}</title></circle>)~",
        px(m.x), py(m.y), html_escape(m.label));
  }
  return out + "</svg>";
}

std::string render_bar_chart(const std::string& id, const std::string& title,
                             const std::vector<std::pair<std::string, double>>& bars,
                             std::string (*format)(double)) {
  double top = 0;
  for (const auto& b : bars) {
    top = std::max(top, b.second);
  }
  top = top > 0 ? top : 1;
  const double row = 24;
  const double label_w = 220;
  const double bar_w = kChartW - label_w - 120;
  const double h = kPadTop + row * static_cast<double>(bars.size()) + 10;
  std::string out = fmt::format(
      R"~(<svg id="{}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" )~"
      R"~(font-family="sans-serif" font-size="11"><text x="10" y="18" font-size="13" font-weight="bold">{}</text>)~",
      id, kChartW, h, kChartW, h, html_escape(title));
  double y = kPadTop;
  for (const auto& [label, value] : bars) {
    const double w = std::max(1.0, value / top * bar_w);
    out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="end">{}</text>)~", label_w - 8, y + 15,
                       html_escape(label));
    out += fmt::format(
        R"~(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="#4a7bd0"/>)~",
        label_w, y + 3, w, row - 6);
    out += fmt::format(R"~(<text x="{:.1f}" y="{:.1f}">{}</text>)~", label_w + w + 6, y + 15,
                       html_escape(format(value)));
    y += row;
  }
  return out + "</svg>";
}

}  // namespace sluice::plan
