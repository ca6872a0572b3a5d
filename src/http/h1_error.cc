#include "http/h1_error.h"

#include <string>

namespace sluice::http::h1 {

namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sluice.http1"; }
  std::string message(int ev) const override { return std::string(describe(static_cast<Error>(ev))); }
};
}  // namespace

const boost::system::error_category& error_category() {
  static const Category category;
  return category;
}

}  // namespace sluice::http::h1
