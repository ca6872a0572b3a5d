#pragma once
// Runs Store calls on dedicated threads (one per store connection) and hands each result back on the caller's
// executor, so no gateway worker ever waits on disk or on the database. Jobs run in arrival order per thread;
// with several threads (PostgreSQL) they run in parallel. Jobs queued at destruction still run.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "http/asio.h"
#include "store/store.h"

namespace sluice::store {

class StoreThreads {
 public:
  explicit StoreThreads(std::vector<std::unique_ptr<Store>> stores);
  ~StoreThreads();
  StoreThreads(const StoreThreads&) = delete;
  StoreThreads& operator=(const StoreThreads&) = delete;

  void post(std::function<void(Store&)> job);
  // No job queued or running (their answers, if any, have been posted).
  bool idle() const;

  // auto job = [id](Store& s) { return s.get_file(...); };  co_await threads.call(job);
  // `job` (moved from) runs on a store thread; the coroutine resumes on its own executor with the result.
  // The job must be a named variable: GCC 12 miscompiles class-type temporaries in a co_await expression
  // (a captured std::string ends up pointing into the awaiting frame), so temporaries are refused here.
  template <class Fn, class Token = net::use_awaitable_t<>>
  auto call(Fn& job, Token&& token = {}) {
    Fn fn = std::move(job);
    using R = std::invoke_result_t<Fn&, Store&>;
    return net::async_initiate<Token, void(R)>(
        [this](auto handler, Fn fn) {
          // Tracked: the caller's io_context counts the call as work until the answer is posted back.
          auto ex =
              net::prefer(net::get_associated_executor(handler), net::execution::outstanding_work.tracked);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          post([h, ex, fn = std::move(fn)](Store& s) mutable {
            R r = fn(s);
            net::post(ex, [h, r = std::move(r)]() mutable { std::move (*h)(std::move(r)); });
          });
        },
        token, std::move(fn));
  }

 private:
  void run(Store& store);

  std::vector<std::unique_ptr<Store>> stores_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void(Store&)>> jobs_;
  bool stop_ = false;
  std::size_t running_ = 0;  // jobs executing now
  std::vector<std::thread> threads_;
};

}  // namespace sluice::store
