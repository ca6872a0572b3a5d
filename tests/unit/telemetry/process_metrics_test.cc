#include "telemetry/process_metrics.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>

namespace sluice::telemetry {
namespace {

TEST(ProcessMetrics, ReadsThisProcessFromProc) {
  ProcessStats s;
  ASSERT_TRUE(read_process_stats(s));
  EXPECT_GT(s.resident_bytes, 1024 * 1024);
  EXPECT_GE(s.virtual_bytes, s.resident_bytes);
  EXPECT_GE(s.cpu_seconds, 0);
  double now = double(std::time(nullptr));
  EXPECT_LE(s.start_time_seconds, now + 2);
  EXPECT_GT(s.start_time_seconds, now - 3600);
  EXPECT_GE(s.open_fds, 3);  // stdin, stdout, stderr
  EXPECT_GE(s.max_fds, s.open_fds);
}

TEST(ProcessMetrics, OpenFdsFollowsOpenAndClose) {
  ProcessStats before, during, after;
  ASSERT_TRUE(read_process_stats(before));
  int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(read_process_stats(during));
  ::close(fd);
  ASSERT_TRUE(read_process_stats(after));
  EXPECT_EQ(during.open_fds, before.open_fds + 1);
  EXPECT_EQ(after.open_fds, before.open_fds);
}

TEST(ProcessMetrics, RegisteredFamiliesAreRefreshedOnScrape) {
  Registry r;
  register_process_metrics(r);
  auto text = r.expose();
  for (const char* name :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
        "process_start_time_seconds ", "process_max_fds ", "process_virtual_memory_bytes "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name;
  }
  EXPECT_GT(r.gauge("process_resident_memory_bytes", "").with({}).value(), 0);
}

}  // namespace
}  // namespace sluice::telemetry
