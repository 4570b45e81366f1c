// Pooling layers (see pooling.h). Module-level checks name the layer; the ops check the rest.
#include "nn/pooling.h"

#include <sstream>

#include "autograd/ops/nn_ops.h"

namespace retort::nn {

namespace {

// PyTorch prints a square size as one int and a rectangular one as a tuple. (ostringstream
// rather than string concatenation: g++ 12 gives a false -Wrestrict on the latter.)
std::string size_str(const Size2& s) {
  std::ostringstream os;
  if (s[0] == s[1])
    os << s[0];
  else
    os << '(' << s[0] << ", " << s[1] << ')';
  return os.str();
}

Size2 default_stride(const Size2& stride, const Size2& kernel) {
  return stride[0] == 0 && stride[1] == 0 ? kernel : stride;
}

void check_image(const char* layer, const Tensor& x) {
  RETORT_CHECK(x.dim() == 4, layer, ": expected input [N, C, H, W], got ", shape_str(x.sizes()));
}

void check_window(const char* layer, const Size2& k, const Size2& s, const Size2& p) {
  RETORT_CHECK(k[0] > 0 && k[1] > 0 && s[0] > 0 && s[1] > 0, layer,
               ": kernel_size and stride must be positive, got kernel_size=", size_str(k),
               " stride=", size_str(s));
  RETORT_CHECK(p[0] >= 0 && p[1] >= 0 && 2 * p[0] <= k[0] && 2 * p[1] <= k[1], layer, ": padding ",
               size_str(p), " must be at most half of kernel_size ", size_str(k));
}

}  // namespace

MaxPool2d::MaxPool2d(Size2 k, Size2 s, Size2 p)
    : kernel_size(k), stride(default_stride(s, k)), padding(p) {
  check_window("MaxPool2d", kernel_size, stride, padding);
}

Tensor MaxPool2d::forward(const Tensor& x) {
  check_image("MaxPool2d", x);
  return max_pool2d(x, kernel_size, stride, padding);
}

std::string MaxPool2d::extra_repr() const {
  return "kernel_size=" + size_str(kernel_size) + ", stride=" + size_str(stride) +
         ", padding=" + size_str(padding) + ", dilation=1, ceil_mode=False";
}

AvgPool2d::AvgPool2d(Size2 k, Size2 s, Size2 p, bool include_pad)
    : kernel_size(k), stride(default_stride(s, k)), padding(p), count_include_pad(include_pad) {
  check_window("AvgPool2d", kernel_size, stride, padding);
}

Tensor AvgPool2d::forward(const Tensor& x) {
  check_image("AvgPool2d", x);
  return avg_pool2d(x, kernel_size, stride, padding, count_include_pad);
}

std::string AvgPool2d::extra_repr() const {
  return "kernel_size=" + size_str(kernel_size) + ", stride=" + size_str(stride) +
         ", padding=" + size_str(padding);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 out) : output_size(out) {
  RETORT_CHECK(out[0] > 0 && out[1] > 0, "AdaptiveAvgPool2d: output_size must be positive, got ",
               size_str(out));
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  check_image("AdaptiveAvgPool2d", x);
  return adaptive_avg_pool2d(x, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const { return "output_size=" + size_str(output_size); }

}  // namespace retort::nn
