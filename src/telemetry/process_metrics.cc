#include "telemetry/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace sluice::telemetry {

namespace {
// Boot time (unix seconds) from /proc/stat's "btime" line.
double boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}
}  // namespace

bool read_process_stats(ProcessStats& out) {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) {
    return false;
  }
  // Field 2 (comm) may contain spaces and parentheses: parse from after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) {
    return false;
  }
  std::istringstream fields(line.substr(close + 2));
  // Fields from 3 (state) on; we need utime (14), stime (15), starttime (22), vsize (23), rss (24).
  std::string f;
  double utime = 0, stime = 0, starttime = 0, vsize = 0, rss = 0;
  for (int i = 3; i <= 24 && fields >> f; ++i) {
    switch (i) {
      case 14:
        utime = std::stod(f);
        break;
      case 15:
        stime = std::stod(f);
        break;
      case 22:
        starttime = std::stod(f);
        break;
      case 23:
        vsize = std::stod(f);
        break;
      case 24:
        rss = std::stod(f);
        break;
      default:
        break;
    }
  }
  static const double ticks = double(sysconf(_SC_CLK_TCK));
  static const double page = double(sysconf(_SC_PAGESIZE));
  static const double btime = boot_time();
  out.cpu_seconds = (utime + stime) / ticks;
  out.resident_bytes = rss * page;
  out.virtual_bytes = vsize;
  out.start_time_seconds = btime + starttime / ticks;
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  out.open_fds = double(fds > 0 ? fds - 1 : 0);  // minus the directory handle used to list them
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    out.max_fds = double(lim.rlim_cur);
  }
  return true;
}

void register_process_metrics(Registry& r) {
  auto& cpu =
      r.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.").with({});
  auto& rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.").with({});
  auto& vsz = r.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").with({});
  auto& start =
      r.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
          .with({});
  auto& fds = r.gauge("process_open_fds", "Number of open file descriptors.").with({});
  auto& max_fds = r.gauge("process_max_fds", "Maximum number of open file descriptors.").with({});
  r.add_collector([&] {
    ProcessStats s;
    if (read_process_stats(s)) {
      cpu.set(s.cpu_seconds);
      rss.set(s.resident_bytes);
      vsz.set(s.virtual_bytes);
      start.set(s.start_time_seconds);
      fds.set(s.open_fds);
      max_fds.set(s.max_fds);
    }
  });
}

}  // namespace sluice::telemetry
