#include "store/store_threads.h"

#include <spdlog/spdlog.h>

#include "common/thread_name.h"

namespace sluice::store {

StoreThreads::StoreThreads(std::vector<std::unique_ptr<Store>> stores) : stores_(std::move(stores)) {
  for (auto& s : stores_) {
    threads_.emplace_back([this, st = s.get()] { run(*st); });
  }
}

StoreThreads::~StoreThreads() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
}

void StoreThreads::post(std::function<void(Store&)> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

bool StoreThreads::idle() const {
  std::lock_guard lock(mu_);
  return jobs_.empty() && running_ == 0;
}

void StoreThreads::run(Store& store) {
  name_this_thread("sluice-store");
  for (;;) {
    std::function<void(Store&)> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;  // stopping, and everything queued has run
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    try {
      job(store);
    } catch (const std::exception& e) {
      // A store call must not take the thread down (a bad_alloc on a huge file, say); its caller then never
      // hears back, which the executor's next poll tolerates.
      spdlog::error("batch store: a store call failed: {}", e.what());
    }
    job = nullptr;  // its captures go before the thread reports idle
    std::lock_guard lock(mu_);
    --running_;
  }
}

}  // namespace sluice::store
