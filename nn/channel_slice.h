// ChannelSlice: a module that shows its inner network only some input channels,
//   forward(x [N, C, H, W]) = net(x[:, begin : begin + count])   (C ≥ begin + count),
// for inputs that stack several views of one sample along C — the paired view of cross-modal
// distillation (data/modality.h: RGB in channels 0..2 for the teacher, the derived modality in
// 3.. for the student). The inner network is the child "net" (state-dict keys "net.<key>"); save
// or load `net` itself for checkpoints of the bare network. Gradients reach x only in the sliced
// channels (narrow's backward), and nothing of the other channels reaches net.
#pragma once
#include <cstdint>
#include <memory>

#include "nn/module.h"

namespace retort::nn {

class ChannelSlice : public Module {
 public:
  // begin ≥ 0, count ≥ 1; net non-null.
  ChannelSlice(std::shared_ptr<Module> net, std::int64_t begin, std::int64_t count);
  // Throws naming x's shape when it is not [N, C, ...] with C ≥ begin + count.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ChannelSlice"; }
  std::string extra_repr() const override;

  std::shared_ptr<Module> net;
  std::int64_t begin, count;
};

}  // namespace retort::nn
