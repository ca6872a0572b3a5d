#include "admission/key_limits.h"

#include <algorithm>

namespace sluice::admission {

const char* to_string(LimitKind k) {
  switch (k) {
    case LimitKind::kNone:
      return "none";
    case LimitKind::kRequests:
      return "requests";
    case LimitKind::kTokens:
      return "tokens";
    case LimitKind::kConcurrency:
      return "concurrency";
  }
  return "none";
}

LimitSet::LimitSet(const config::RateLimits& l)
    : requests(GcraParams::make(l.rpm, l.window, l.request_burst)),
      tokens(GcraParams::make(l.tpm, l.window, l.token_burst)),
      max_concurrent(l.max_concurrent) {}

KeyEntry::KeyEntry(std::string n, const config::KeyPolicy& p)
    : name(std::move(n)), policy(p), all(p.limits), limited(make_key_metrics(name)) {
  for (const auto& [model, limits] : p.model_limits) {
    models.emplace(model, LimitSet(limits));
  }
}

bool KeyEntry::allows(std::string_view model) const {
  return policy.allowed_models.empty() ||
         std::find(policy.allowed_models.begin(), policy.allowed_models.end(), model) !=
             policy.allowed_models.end();
}

const LimitSet* KeyEntry::model_limits(std::string_view model) const {
  auto it = models.find(model);
  return it == models.end() ? nullptr : &it->second;
}

KeyTicket::~KeyTicket() {
  for (auto& h : held_) {
    if (h.concurrency) {
      h.counters->in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

void KeyTicket::reconcile(std::uint64_t actual_tokens, Nanos now) {
  if (reconciled_) {
    return;
  }
  reconciled_ = true;
  const auto delta = static_cast<std::int64_t>(actual_tokens) - static_cast<std::int64_t>(tokens_);
  for (auto& h : held_) {
    h.counters->tokens.adjust(h.tokens, now, delta);
  }
}

namespace {
void tighter(RateView& view, const GcraParams& p, const GcraDecision& d) {
  if (p.unlimited()) {
    return;
  }
  if (view.limit == 0 || d.remaining < view.remaining ||
      (d.remaining == view.remaining && d.reset_ns > view.reset_ns)) {
    view = {p.limit, d.remaining, d.reset_ns};
  }
}
}  // namespace

KeyDecision check_key(const KeyEntry& key, std::string_view model, std::uint64_t tokens, Nanos now,
                      KeyTicket& ticket) {
  KeyDecision out;
  const LimitSet* sets[2] = {&key.all, key.model_limits(model)};
  // Concurrency first: it is the only check that does not consume budget.
  std::size_t held = 0;
  for (const LimitSet* s : sets) {
    if (s == nullptr || s->max_concurrent == 0) {
      continue;
    }
    if (s->counters->in_flight.fetch_add(1, std::memory_order_relaxed) >= s->max_concurrent) {
      s->counters->in_flight.fetch_sub(1, std::memory_order_relaxed);
      out.rejected = LimitKind::kConcurrency;
      break;
    }
    ++held;
  }
  auto undo_concurrency = [&] {
    for (const LimitSet* s : sets) {
      if (held > 0 && s != nullptr && s->max_concurrent != 0) {
        s->counters->in_flight.fetch_sub(1, std::memory_order_relaxed);
        --held;
      }
    }
  };
  // Requests, then tokens; a later rejection refunds what the earlier checks charged.
  std::vector<std::pair<const LimitSet*, bool>> charged;  // (set, tokens charged too)
  auto refund = [&] {
    for (auto& [s, tok] : charged) {
      s->counters->requests.adjust(s->requests, now, -1);
      if (tok) {
        s->counters->tokens.adjust(s->tokens, now, -static_cast<std::int64_t>(tokens));
      }
    }
  };
  if (out.rejected == LimitKind::kNone) {
    for (const LimitSet* s : sets) {
      if (s == nullptr) {
        continue;
      }
      GcraDecision r = s->counters->requests.take(s->requests, now, 1);
      if (!r.allowed) {
        out.rejected = LimitKind::kRequests;
        out.retry_after_ns = r.retry_after_ns;
        tighter(out.requests, s->requests, r);
        break;
      }
      GcraDecision t = s->counters->tokens.take(s->tokens, now, tokens);
      if (!t.allowed) {
        s->counters->requests.adjust(s->requests, now, -1);
        out.rejected = LimitKind::kTokens;
        out.too_large = t.too_large;
        out.retry_after_ns = t.retry_after_ns;
        tighter(out.tokens, s->tokens, t);
        break;
      }
      charged.emplace_back(s, true);
    }
  }
  if (out.rejected != LimitKind::kNone) {
    undo_concurrency();
    refund();
  }
  // Headers always show the current state of every limit that applies.
  for (const LimitSet* s : sets) {
    if (s == nullptr) {
      continue;
    }
    tighter(out.requests, s->requests, s->counters->requests.peek(s->requests, now));
    tighter(out.tokens, s->tokens, s->counters->tokens.peek(s->tokens, now));
  }
  if (out.rejected != LimitKind::kNone) {
    return out;
  }
  ticket.tokens_ = tokens;
  for (const LimitSet* s : sets) {
    if (s != nullptr && s->any()) {
      ticket.held_.push_back({s->counters, s->tokens, s->max_concurrent != 0});
    }
  }
  return out;
}

}  // namespace sluice::admission
