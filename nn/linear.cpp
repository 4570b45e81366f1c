// Linear, Conv2d and ConvTranspose2d (see linear.h). Each layer checks its arguments at
// construction, so a bad layer fails where it is built rather than at its first forward.
#include "nn/linear.h"

#include <cmath>
#include <sstream>

#include "nn/init.h"

namespace retort::nn {
namespace {

// The initialisers fill CPU tensors (nn/init.h): a layer asked for on another device is drawn on
// the CPU in its dtype and then moved, so its values do not depend on the device.
void to_device(Module& m, Device device) {
  if (device != kCPU) m.to(device);
}

}  // namespace

Linear::Linear(std::int64_t in, std::int64_t out, bool has_bias, const TensorOptions& to)
    : in_features(in), out_features(out) {
  RETORT_CHECK(in > 0 && out > 0, "Linear: in_features and out_features must be positive, got ", in,
               " and ", out);
  weight = register_parameter("weight", empty({out, in}, to.dtype));
  if (has_bias) bias = register_parameter("bias", empty({out}, to.dtype));
  reset_parameters();
  to_device(*this, to.device);
}

void Linear::reset_parameters() {
  // torch.nn.Linear.reset_parameters: kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in).
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& x) {
  RETORT_CHECK(x.dim() >= 1 && x.size(-1) == in_features, "Linear: input ", shape_str(x.sizes()),
               " and weight ", shape_str(weight.sizes()),
               ": last input dim must be in_features=", in_features);
  return linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features << ", out_features=" << out_features
     << ", bias=" << (bias.defined() ? "True" : "False");
  return os.str();
}

Conv2d::Conv2d(std::int64_t in, std::int64_t out, std::array<std::int64_t, 2> k,
               const Conv2dOptions& opt, bool has_bias, const TensorOptions& to)
    : in_channels(in), out_channels(out), kernel_size(k), options(opt) {
  RETORT_CHECK(in > 0 && out > 0 && k[0] > 0 && k[1] > 0,
               "Conv2d: channels and kernel size must "
               "be positive, got in=",
               in, " out=", out, " kernel=(", k[0], ", ", k[1], ")");
  RETORT_CHECK(opt.groups > 0 && in % opt.groups == 0 && out % opt.groups == 0,
               "Conv2d: groups=", opt.groups, " must divide in_channels=", in,
               " and out_channels=", out);
  RETORT_CHECK(opt.stride[0] > 0 && opt.stride[1] > 0 && opt.dilation[0] > 0 &&
                   opt.dilation[1] > 0 && opt.padding[0] >= 0 && opt.padding[1] >= 0,
               "Conv2d: stride and dilation must be positive and padding non-negative");
  weight = register_parameter("weight", empty({out, in / opt.groups, k[0], k[1]}, to.dtype));
  if (has_bias) bias = register_parameter("bias", empty({out}, to.dtype));
  reset_parameters();
  to_device(*this, to.device);
}

Conv2d::Conv2d(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
               std::int64_t padding, std::int64_t dilation, std::int64_t groups, bool has_bias,
               const TensorOptions& to)
    : Conv2d(in, out, {k, k},
             Conv2dOptions{{stride, stride}, {padding, padding}, {dilation, dilation}, groups},
             has_bias, to) {}

void Conv2d::reset_parameters() {
  // torch.nn.Conv2d.reset_parameters: kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in).
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    auto [fan_in, fan_out] = init::calculate_fan_in_and_fan_out(weight);
    double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    init::uniform_(bias, -bound, bound);
  }
}

namespace {
void check_conv_input(const Conv2d& m, const Tensor& x) {
  RETORT_CHECK(x.dim() == 4 && x.size(1) == m.in_channels, "Conv2d: input ", shape_str(x.sizes()),
               " and weight ", shape_str(m.weight.sizes()), ": expected input [N, ", m.in_channels,
               ", H, W]");
}
}  // namespace

Tensor Conv2d::forward(const Tensor& x) {
  check_conv_input(*this, x);
  return conv2d(x, weight, bias, options);
}

Tensor Conv2d::forward_relu(const Tensor& x) {
  check_conv_input(*this, x);
  return conv2d_relu(x, weight, bias, options);
}

std::string Conv2d::extra_repr() const {
  // ostringstream rather than string concatenation: g++ 12 gives a false -Wrestrict on the latter.
  auto pair = [](const std::array<std::int64_t, 2>& a) {
    std::ostringstream os;
    os << '(' << a[0] << ", " << a[1] << ')';
    return os.str();
  };
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << pair(kernel_size)
     << ", stride=" << pair(options.stride);
  if (options.padding[0] != 0 || options.padding[1] != 0)
    os << ", padding=" << pair(options.padding);
  if (options.dilation[0] != 1 || options.dilation[1] != 1)
    os << ", dilation=" << pair(options.dilation);
  if (options.groups != 1) os << ", groups=" << options.groups;
  if (!bias.defined()) os << ", bias=False";
  return os.str();
}

ConvTranspose2d::ConvTranspose2d(std::int64_t in, std::int64_t out, std::array<std::int64_t, 2> k,
                                 const ConvTranspose2dOptions& opt, bool has_bias,
                                 const TensorOptions& to)
    : in_channels(in), out_channels(out), kernel_size(k), options(opt) {
  RETORT_CHECK(in > 0 && out > 0 && k[0] > 0 && k[1] > 0,
               "ConvTranspose2d: channels and kernel size must be positive, got in=", in,
               " out=", out, " kernel=(", k[0], ", ", k[1], ")");
  RETORT_CHECK(opt.groups > 0 && in % opt.groups == 0 && out % opt.groups == 0,
               "ConvTranspose2d: groups=", opt.groups, " must divide in_channels=", in,
               " and out_channels=", out);
  for (int i = 0; i < 2; ++i) {
    RETORT_CHECK(opt.stride[i] > 0 && opt.dilation[i] > 0 && opt.padding[i] >= 0 &&
                     opt.output_padding[i] >= 0,
                 "ConvTranspose2d: stride and dilation must be positive, padding and "
                 "output_padding non-negative");
    RETORT_CHECK(opt.output_padding[i] < opt.stride[i] || opt.output_padding[i] < opt.dilation[i],
                 "ConvTranspose2d: output_padding ", opt.output_padding[i],
                 " must be smaller than stride ", opt.stride[i], " or dilation ", opt.dilation[i]);
  }
  weight = register_parameter("weight", empty({in, out / opt.groups, k[0], k[1]}, to.dtype));
  if (has_bias) bias = register_parameter("bias", empty({out}, to.dtype));
  reset_parameters();
  to_device(*this, to.device);
}

ConvTranspose2d::ConvTranspose2d(std::int64_t in, std::int64_t out, std::int64_t k,
                                 std::int64_t stride, std::int64_t padding,
                                 std::int64_t output_padding, std::int64_t groups, bool has_bias,
                                 std::int64_t dilation, const TensorOptions& to)
    : ConvTranspose2d(in, out, {k, k},
                      ConvTranspose2dOptions{{stride, stride},
                                             {padding, padding},
                                             {output_padding, output_padding},
                                             {dilation, dilation},
                                             groups},
                      has_bias, to) {}

void ConvTranspose2d::reset_parameters() {
  // torch's _ConvNd.reset_parameters: kaiming_uniform_(a=√5) and the bias bound 1/√fan_in, both
  // with fan_in from the weight's dim 1 (C_out/groups for the transposed layout).
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    auto [fan_in, fan_out] = init::calculate_fan_in_and_fan_out(weight);
    double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  RETORT_CHECK(x.dim() == 4 && x.size(1) == in_channels, "ConvTranspose2d: input ",
               shape_str(x.sizes()), " and weight ", shape_str(weight.sizes()),
               ": expected input [N, ", in_channels, ", H, W]");
  return conv_transpose2d(x, weight, bias, options);
}

std::string ConvTranspose2d::extra_repr() const {
  // ostringstream rather than string concatenation: g++ 12 gives a false -Wrestrict on the latter.
  auto pair = [](const std::array<std::int64_t, 2>& a) {
    std::ostringstream os;
    os << '(' << a[0] << ", " << a[1] << ')';
    return os.str();
  };
  // torch's _ConvNd.extra_repr: defaults left out, output_padding after padding.
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << pair(kernel_size)
     << ", stride=" << pair(options.stride);
  if (options.padding[0] != 0 || options.padding[1] != 0)
    os << ", padding=" << pair(options.padding);
  if (options.dilation[0] != 1 || options.dilation[1] != 1)
    os << ", dilation=" << pair(options.dilation);
  if (options.output_padding[0] != 0 || options.output_padding[1] != 0)
    os << ", output_padding=" << pair(options.output_padding);
  if (options.groups != 1) os << ", groups=" << options.groups;
  if (!bias.defined()) os << ", bias=False";
  return os.str();
}

}  // namespace retort::nn
