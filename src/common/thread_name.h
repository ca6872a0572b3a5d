#pragma once
// Names the calling thread for top -H, perf and /proc/PID/task/*/comm (Linux keeps 15 bytes).
#include <pthread.h>

#include <algorithm>
#include <string>

namespace sluice {

inline void name_this_thread(std::string name) {
  name.resize(std::min<std::size_t>(name.size(), 15));
  pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace sluice
