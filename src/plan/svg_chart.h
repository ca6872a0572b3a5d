#pragma once
// Inline SVG charts for the plan's HTML page: lines (optionally stepped or dashed) with point markers, and
// horizontal bars. No scripts: the page must render offline and from a file.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::plan {

struct ChartSeries {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
  bool step = false;  // hold each value until the next x
};

struct ChartMarker {
  double x = 0;
  double y = 0;
  std::string label;
};

struct LineChart {
  std::string id;
  std::string title;
  std::string x_label;
  std::string y_label;
  double x_min = 0;
  double x_max = 1;
  std::vector<std::pair<double, std::string>> x_ticks;  // position, label
  std::vector<ChartSeries> series;
  std::vector<ChartMarker> markers;
};

std::string render_line_chart(const LineChart& c);

// One bar per (label, value); values are formatted with `format`.
std::string render_bar_chart(const std::string& id, const std::string& title,
                             const std::vector<std::pair<std::string, double>>& bars,
                             std::string (*format)(double));

std::string html_escape(std::string_view s);

}  // namespace sluice::plan
