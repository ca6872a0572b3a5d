#include "admission/key_limits.h"

#include <algorithm>
#include <chrono>

#include "common/coarse_clock.h"

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
    case LimitKind::kBudget:
      return "budget";
    case LimitKind::kUnavailable:
      return "unavailable";
  }
  return "none";
}

LimitSet::LimitSet(const config::RateLimits& l, state::Backend& backend, const std::string& key,
                   const std::string& scope)
    : requests(GcraParams::make(l.rpm, l.window, l.request_burst)),
      tokens(GcraParams::make(l.tpm, l.window, l.token_burst)),
      max_concurrent(l.max_concurrent),
      counters(std::make_shared<LimitCounters>()) {
  const std::string suffix = scope.empty() ? std::string() : ":" + scope;
  counters->requests = backend.rate(key, "rq" + suffix);
  counters->tokens = backend.rate(key, "tk" + suffix);
  counters->concurrency = backend.slots(key, "cc" + suffix);
}

KeyEntry::KeyEntry(std::string n, const config::KeyPolicy& p, state::Backend& backend)
    : name(std::move(n)),
      policy(p),
      all(p.limits, backend, name, ""),
      budget(BudgetCaps::from(p.budget)),
      limited(make_key_metrics(name)) {
  for (const auto& [model, limits] : p.model_limits) {
    models.emplace(model, LimitSet(limits, backend, name, model));
  }
  if (budget.any()) {
    spend = backend.spend(name);
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

bool KeyEntry::checks(std::string_view model) const {
  return all.any() || model_limits(model) != nullptr || spend != nullptr;
}

bool KeyEntry::counts_tokens(std::string_view model) const {
  const LimitSet* m = model_limits(model);
  return !all.tokens.unlimited() || (m != nullptr && !m->tokens.unlimited());
}

KeyTicket::~KeyTicket() {
  if (held_.empty() && !spend_) {
    return;
  }
  const Nanos now = std::chrono::steady_clock::now().time_since_epoch().count();
  for (auto& h : held_) {
    if (h.concurrency) {
      h.counters->concurrency->release(now);
    }
  }
  if (spend_) {
    settle_cost(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                       CoarseWallClock::now().time_since_epoch()).count(), now);
  }
}

void KeyTicket::reconcile(std::uint64_t actual_tokens, Nanos now) {
  if (reconciled_) {
    return;
  }
  reconciled_ = true;
  for (auto& h : held_) {
    h.counters->tokens->settle(h.tokens, tokens_, actual_tokens, now);
  }
}

void KeyTicket::settle_cost(std::optional<NanoUsd> actual, std::int64_t unix_ms, Nanos now) {
  if (auto spend = std::move(spend_)) {
    spend->settle(usd_, actual.value_or(usd_), unix_ms, now);
  }
}

namespace {
void tighter(RateView& view, const GcraParams& p, const state::Verdict& d) {
  if (p.unlimited()) {
    return;
  }
  if (view.limit == 0 || d.remaining < view.remaining ||
      (d.remaining == view.remaining && d.reset_ns > view.reset_ns)) {
    view = {p.limit, d.remaining, d.reset_ns};
  }
}

// What one request charged so far, given back when a later check refuses or a refill is needed first.
struct KeyCharges {
  struct Rate {
    state::RateCounter* counter;
    const GcraParams* params;
    std::uint64_t units;
  };
  std::array<Rate, 4> rates{};
  std::size_t n_rates = 0;
  std::array<state::SlotCounter*, 2> slots{};
  std::size_t n_slots = 0;

  void undo(Nanos now) {
    for (std::size_t i = 0; i < n_rates; ++i) {
      rates[i].counter->settle(*rates[i].params, rates[i].units, 0, now);
    }
    for (std::size_t i = 0; i < n_slots; ++i) {
      slots[i]->release(now);
    }
  }
};

// Records one counter's verdict; false when the request is refused (the remaining checks are skipped).
bool note_verdict(const state::Verdict& v, LimitKind kind, state::Refillable* shared, KeyDecision& out) {
  switch (v.outcome) {
    case state::Outcome::kTaken:
      return true;
    case state::Outcome::kRefill:
      out.refill.push_back(shared);  // keep checking: one refill round trip covers every counter
      return true;
    case state::Outcome::kUnavailable:
      out.rejected = LimitKind::kUnavailable;
      return false;
    case state::Outcome::kRefused:
    case state::Outcome::kTooLarge:
      out.rejected = kind;
      out.too_large = v.outcome == state::Outcome::kTooLarge;
      out.retry_after_ns = v.retry_after_ns;
      return false;
  }
  return false;
}

// Concurrency first: it is the only check that does not consume budget.
void check_slots(const LimitSet* const (&sets)[2], Nanos now, KeyCharges& charged, KeyDecision& out) {
  for (const LimitSet* s : sets) {
    if (s == nullptr || s->max_concurrent == 0) {
      continue;
    }
    state::SlotCounter& c = *s->counters->concurrency;
    const state::Verdict v = c.acquire(s->max_concurrent, now);
    if (v.taken()) {
      charged.slots[charged.n_slots++] = &c;
    }
    if (!note_verdict(v, LimitKind::kConcurrency, c.shared(), out)) {
      return;
    }
  }
}

// Requests, then tokens, per set.
void check_rates(const LimitSet* const (&sets)[2], std::uint64_t tokens, Nanos now, KeyCharges& charged,
                 KeyDecision& out) {
  for (const LimitSet* s : sets) {
    if (s == nullptr) {
      continue;
    }
    const std::pair<LimitKind, std::uint64_t> kinds[] = {{LimitKind::kRequests, 1}, {LimitKind::kTokens, tokens}};
    for (const auto& [kind, units] : kinds) {
      const bool req = kind == LimitKind::kRequests;
      const GcraParams& p = req ? s->requests : s->tokens;
      state::RateCounter& c = req ? *s->counters->requests : *s->counters->tokens;
      const state::Verdict v = c.reserve(p, units, now);
      if (v.taken()) {
        charged.rates[charged.n_rates++] = {&c, &p, units};
      } else if (v.outcome == state::Outcome::kRefused || v.outcome == state::Outcome::kTooLarge) {
        tighter(req ? out.requests : out.tokens, p, v);
      }
      if (!note_verdict(v, kind, c.shared(), out)) {
        return;
      }
    }
  }
}
}  // namespace

KeyDecision check_key(const KeyEntry& key, std::string_view model, const RequestCost& cost, Nanos now,
                      std::int64_t unix_ms, KeyTicket& ticket) {
  KeyDecision out;
  const LimitSet* const sets[2] = {&key.all, key.model_limits(model)};
  KeyCharges charged;
  check_slots(sets, now, charged, out);
  if (out.rejected == LimitKind::kNone) {
    check_rates(sets, cost.tokens, now, charged, out);
  }
  bool spent = false;
  if (out.rejected == LimitKind::kNone && key.spend) {
    const state::SpendVerdict v = key.spend->reserve(key.budget, cost.usd, unix_ms, now);
    spent = v.outcome == state::Outcome::kTaken;
    out.budget = v.budget;
    state::Verdict as_rate;
    as_rate.outcome = v.outcome;
    if (!note_verdict(as_rate, LimitKind::kBudget, key.spend->shared(), out) &&
        out.rejected == LimitKind::kBudget) {
      out.retry_after_ns = std::max<std::int64_t>(0, v.budget.resets_at_ms - unix_ms) * 1'000'000;
    }
  }
  if (out.rejected != LimitKind::kNone || out.pending()) {
    charged.undo(now);
    if (spent) {
      key.spend->settle(cost.usd, 0, unix_ms, now);
    }
    if (out.rejected != LimitKind::kNone) {
      out.refill.clear();  // refused whatever a refill would bring
    }
  }
  // Headers always show the current state of every limit that applies.
  for (const LimitSet* s : sets) {
    if (s == nullptr) {
      continue;
    }
    tighter(out.requests, s->requests, s->counters->requests->peek(s->requests, now));
    tighter(out.tokens, s->tokens, s->counters->tokens->peek(s->tokens, now));
  }
  if (out.rejected != LimitKind::kNone || out.pending()) {
    return out;
  }
  ticket.tokens_ = cost.tokens;
  for (const LimitSet* s : sets) {
    if (s != nullptr && s->any()) {
      ticket.held_.push_back({s->counters, s->tokens, s->max_concurrent != 0});
    }
  }
  if (spent) {
    ticket.spend_ = key.spend;
    ticket.usd_ = cost.usd;
  }
  return out;
}

KeyDecision check_key(const KeyEntry& key, std::string_view model, std::uint64_t tokens, Nanos now,
                      KeyTicket& ticket) {
  const std::int64_t unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(CoarseWallClock::now().time_since_epoch()).count();
  return check_key(key, model, RequestCost{tokens, 0}, now, unix_ms, ticket);
}

net::awaitable<KeyDecision> check_key_async(state::Backend& backend, const KeyEntry& key, std::string_view model,
                                            RequestCost cost, KeyTicket& ticket) {
  // A refill that came back short leaves the counter decided (refused until the shared bucket refills); a
  // second round is only needed when another worker of this replica used the new slice first.
  constexpr int kRounds = 3;
  for (int round = 0;; ++round) {
    const Nanos now = std::chrono::steady_clock::now().time_since_epoch().count();
    const std::int64_t unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(CoarseWallClock::now().time_since_epoch()).count();
    KeyDecision d = check_key(key, model, cost, now, unix_ms, ticket);
    if (!d.pending()) {
      co_return d;
    }
    if (round + 1 == kRounds) {
      d.refill.clear();
      d.rejected = LimitKind::kConcurrency;  // contended: "retry when one finishes"
      co_return d;
    }
    co_await backend.refill(d.refill);
  }
}

}  // namespace sluice::admission
