#include "common/secret_scrubber.h"

#include <algorithm>

namespace sluice {

namespace {
constexpr std::size_t kMinSecret = 4;
// Long enough to pass vendor prefixes ("sk-proj-", "sk-live-") that providers print in masked keys.
constexpr std::size_t kDistinctivePrefix = 12;
}  // namespace

SecretScrubber::SecretScrubber(std::vector<std::string> secrets) {
  for (auto& s : secrets) {
    if (s.size() >= kMinSecret && std::find(secrets_.begin(), secrets_.end(), s) == secrets_.end()) {
      secrets_.push_back(std::move(s));
    }
  }
  std::sort(secrets_.begin(), secrets_.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::size_t SecretScrubber::scrub(std::string& text) const {
  std::size_t replaced = 0;
  for (const std::string& secret : secrets_) {
    const std::string_view prefix = std::string_view(secret).substr(0, kDistinctivePrefix);
    for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) {
      std::size_t n = prefix.size();
      while (n < secret.size() && at + n < text.size() && text[at + n] == secret[n]) {
        ++n;
      }
      text.replace(at, n, kRedacted);
      at += kRedacted.size();
      ++replaced;
    }
  }
  return replaced;
}

}  // namespace sluice
