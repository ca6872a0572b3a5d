#pragma once
// The queueing model for self-hosted capacity (docs/plan.md): each hour is an M/M/c queue whose servers are
// the batch slots of the engine replicas (c = replicas × batch). A request holds a slot for its service time
// S = prefill tokens / prefill rate + completion tokens / (decode rate / batch): prompts are prefilled one
// at a time at the replica's full prefill rate (chunked prefill between decode steps), and the decode rate
// is the replica's aggregate over a full batch, of which one sequence gets 1/batch. First-token time = the
// wait for a slot (Erlang C) + the request's own prefill.
namespace sluice::plan {

// Erlang B blocking probability for c servers and offered load a = λ/μ erlangs (stable recurrence).
double erlang_b(int servers, double offered);

// Erlang C: probability that an arrival waits (1 when a >= c: the queue grows without bound).
double erlang_c(int servers, double offered);

// The q-quantile of the M/M/c wait: P(W > t) = C·exp(-(cμ - λ)t), so t_q = ln(C / (1 - q)) / (cμ - λ),
// 0 when C <= 1 - q; +inf when λ >= cμ.
double wait_quantile(int servers, double arrival_rate, double service_rate, double q);

// Mean wait in queue, C / (cμ - λ) (+inf when unstable).
double mean_wait(int servers, double arrival_rate, double service_rate);

struct EngineModel {
  int batch = 1;
  double prefill_tokens_per_s = 1;  // one prompt at a time
  double decode_tokens_per_s = 1;   // aggregate over a full batch
  // Seconds a request holds one batch slot.
  double service_s(double prefill_tokens, double completion_tokens) const;
  // Seconds of its own prefill (part of the first-token time).
  double prefill_s(double prefill_tokens) const;
};

// One hour's load on the engine.
struct HourTraffic {
  double arrival_rate = 0;  // requests/s
  double mean_prefill = 0;  // tokens to prefill per request
  double mean_completion = 0;
  double p99_prefill = 0;  // the prefill of a p99-sized prompt, in tokens
};

struct Slo;

struct Sizing {
  int replicas = 0;
  double utilisation = 0;  // λS / (replicas × batch)
  double p99_wait_s = 0;
  double p99_ttft_s = 0;  // p99 wait + prefill of the p99 prompt
  bool feasible = true;   // false when even an idle engine misses the SLO
};

// p99 first-token time with `replicas` replicas (+inf when unstable).
double p99_ttft(const EngineModel& e, const HourTraffic& t, int replicas);

// Fewest replicas (at least min_replicas) keeping utilisation <= 1 - headroom and p99 first-token time
// <= the SLO. No traffic needs min_replicas.
Sizing size_hour(const EngineModel& e, const HourTraffic& t, const Slo& slo, int min_replicas);

// Highest arrival rate `replicas` replicas serve within the SLO and headroom (for the same request mix).
double max_rate(const EngineModel& e, const HourTraffic& t, const Slo& slo, int replicas);

}  // namespace sluice::plan
