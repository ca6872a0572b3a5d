#pragma once
// GCRA lives with the state backends (state/gcra.h), which count with it; admission uses it under its own names.
#include "state/gcra.h"

namespace sluice::admission {

using state::AtomicGcra;
using state::gcra_decide;
using state::gcra_peek;
using state::GcraDecision;
using state::GcraParams;
using state::Nanos;

}  // namespace sluice::admission
