#include "upstream/race.h"

namespace sluice::upstream {

namespace {
net::awaitable<void> run_leg(Leg& leg, Transport& transport, ClientSink& sink) {
  InFlight counted{*leg.host};
  co_await transport.attempt(*leg.spec, sink, leg.out);
}
}  // namespace

net::awaitable<RaceResult> race_attempts(Leg (&legs)[2], Clock::duration hedge_delay, Transport& transport,
                                         ClientSink& sink, const RaceHooks& hooks) {
  AttemptGate gate;
  RaceResult result;
  auto ex = co_await net::this_coro::executor;
  net::steady_timer wake{ex, Clock::time_point::max()};
  int last_done = 0;
  auto claimed = [&](int id) {
    hooks.on_claim(legs[id]);
    const int other = 1 - id;
    if (legs[other].started && !legs[other].done) {
      legs[other].cancel.cancel();  // the loser stops now: its tokens would be paid for and thrown away
    }
    wake.cancel();
  };
  gate.on_claim = claimed;
  auto spawn = [&](int i) {
    legs[i].spec->gate = &gate;
    legs[i].spec->gate_id = i;
    legs[i].started = true;
    net::co_spawn(ex, run_leg(legs[i], transport, sink), [&, i](std::exception_ptr) {
      legs[i].done = true;
      last_done = i;
      wake.cancel();
    });
  };

  spawn(0);
  auto hedge_at = Clock::now() + hedge_delay;
  for (;;) {
    if (legs[0].done && (!result.hedged || legs[1].done)) {
      break;
    }
    const bool may_hedge = !result.hedged && gate.winner() == AttemptGate::kNobody && !legs[0].done &&
                           hedge_at != Clock::time_point::max() && !sink.broken();
    if (may_hedge && Clock::now() >= hedge_at) {
      if (hooks.start_hedge(legs[1])) {
        result.hedged = true;
        spawn(1);
      }
      hedge_at = Clock::time_point::max();  // one hedge per attempt
      continue;
    }
    wake.expires_at(may_hedge ? hedge_at : Clock::time_point::max());
    co_await wake.async_wait(await_tuple);
  }
  result.answer = gate.winner() != AttemptGate::kNobody ? gate.winner() : last_done;
  co_return result;
}

}  // namespace sluice::upstream
