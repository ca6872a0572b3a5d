#include "routing/plan_view.h"

#include <algorithm>

namespace sluice::routing {

GroupChain chain_of(const Group& root) {
  GroupChain chain{&root};
  for (std::size_t i = 0; i < chain.size(); ++i) {
    for (const auto* fb : chain[i]->fallbacks) {
      if (std::find(chain.begin(), chain.end(), fb) == chain.end()) {
        chain.push_back(fb);
      }
    }
  }
  return chain;
}

}  // namespace sluice::routing
