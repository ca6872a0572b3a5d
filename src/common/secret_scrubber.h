#pragma once
// Removes the gateway's own secrets (provider API keys) from text it relays from an upstream: a provider, or
// a proxy in front of it, may echo the request's Authorization in an error message. Only error answers are
// scrubbed (docs/security.md), and a text is only rewritten where it holds the start of a secret.
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class SecretScrubber {
 public:
  static constexpr std::string_view kRedacted = "[redacted]";
  // Secrets shorter than 4 bytes are ignored: redacting them would mangle ordinary text.
  explicit SecretScrubber(std::vector<std::string> secrets = {});

  // Replaces every echo of a secret with kRedacted: the whole secret, or a truncated copy of at least its
  // first min(12, size) bytes. Returns how many echoes it replaced.
  std::size_t scrub(std::string& text) const;
  bool empty() const { return secrets_.empty(); }

 private:
  std::vector<std::string> secrets_;  // longest first, so a key that extends another is redacted whole
};

}  // namespace sluice
