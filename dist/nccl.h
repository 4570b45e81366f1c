// The NCCL side of ProcessGroup (internal to dist/): collectives on CUDA tensors, queued on the
// CUDA backend's stream. In a build without CUDA these throw (no CUDA tensor can exist there).
// `what` is the collective's description (ProcessGroup::describe) for errors; `then` runs after
// completion (Avg's division). counts/displs are in elements, per rank.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dist/process_group.h"

namespace retort::dist {

std::unique_ptr<Work> nccl_all_reduce(ProcessGroup& pg, const std::string& what, const Tensor& t,
                                      std::function<void()> then);
std::unique_ptr<Work> nccl_broadcast(ProcessGroup& pg, const std::string& what, const Tensor& t, int root);
std::unique_ptr<Work> nccl_all_gather(ProcessGroup& pg, const std::string& what, const Tensor& x,
                                      const Tensor& out, const std::vector<std::int64_t>& counts,
                                      const std::vector<std::int64_t>& displs);

}  // namespace retort::dist
