#pragma once
// The Batch API's JSON objects in OpenAI's shapes (file, batch, list, deleted), plus sluice's extra field
// `sluice_estimate` on batches (SDKs ignore unknown fields).
#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"

namespace sluice::batch {

std::string file_json(const store::FileRecord& f);
// `usage` (retrieve only): adds sluice_usage, the tokens and cost of the results so far.
std::string batch_json(const store::BatchRecord& b, const store::BatchUsage* usage = nullptr);
std::string deleted_json(std::string_view id);

// {"object":"list","data":[...],"first_id","last_id","has_more"}: `items` are JSON objects, `ids` theirs.
std::string list_json(const std::vector<std::string>& items, const std::vector<std::string>& ids,
                      bool has_more);

// {"object":"list","data":[{"code","message","param","line"}]} for a failed batch's `errors`.
struct BatchError {
  std::string code, message, param;
  std::uint32_t line = 0;  // 0 = null
};
std::string errors_json(const std::vector<BatchError>& errors);

}  // namespace sluice::batch
