#pragma once
// Headers a request's answer carries besides the ones its writer sets (which model and upstream answered,
// rate limits, cache outcome, priority). Collected as the request goes, written with the answer's head.
#include <boost/container/small_vector.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::http {

class AnswerHeaders {
 public:
  // Replaces an earlier value of the same name. `name` must outlive the list (a string literal): it is not
  // copied, and is usually matched by address.
  void set(std::string_view name, std::string value) {
    for (auto& [k, v] : items_) {
      if ((k.data() == name.data() && k.size() == name.size()) || k == name) {
        v = std::move(value);
        return;
      }
    }
    items_.emplace_back(name, std::move(value));
  }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  // Inline: set() runs a few times per request and must not allocate.
  boost::container::small_vector<std::pair<std::string_view, std::string>, 6> items_;
};

}  // namespace sluice::http
