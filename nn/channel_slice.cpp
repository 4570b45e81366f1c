// ChannelSlice (see channel_slice.h). A narrow view along C rather than a copy: the convolution
// that usually follows packs its input anyway.
#include "nn/channel_slice.h"

#include "autograd/ops/shape.h"
#include "tensor/error.h"

namespace retort::nn {

ChannelSlice::ChannelSlice(std::shared_ptr<Module> inner, std::int64_t b, std::int64_t c)
    : begin(b), count(c) {
  RETORT_CHECK(inner != nullptr, "ChannelSlice: the inner network is null");
  RETORT_CHECK(b >= 0 && c >= 1, "ChannelSlice: needs begin >= 0 and count >= 1, got begin ", b, ", count ", c);
  net = register_module("net", std::move(inner));
}

Tensor ChannelSlice::forward(const Tensor& x) {
  RETORT_CHECK(x.dim() >= 2 && x.size(1) >= begin + count, "ChannelSlice: input ", shape_str(x.sizes()),
               " has too few channels for channels ", begin, "..", begin + count - 1);
  return (*net)(narrow(x, 1, begin, count));
}

std::string ChannelSlice::extra_repr() const {
  return "begin=" + std::to_string(begin) + ", count=" + std::to_string(count);
}

}  // namespace retort::nn
