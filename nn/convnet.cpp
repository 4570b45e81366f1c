// ConvNet (see convnet.h). The layout copies nn/models.cpp's seed nets layer for layer so the
// seed nets are specs of this family: their state dicts load unchanged, and a search over specs
// (kd/nas.h) has the seed StudentNet as one of its points. Parameter and MAC counts are closed
// forms so a search can filter thousands of specs by budget without building a module.
#include "nn/convnet.h"

#include <sstream>

#include "autograd/ops/shape.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "tensor/error.h"

namespace retort::nn {

std::int64_t ConvStage::conv_width(std::int64_t j) const {
  RETORT_CHECK(j >= 0 && j < convs, "ConvStage::conv_width: conv ", j, " of a stage with ", convs,
               " convs");
  return widths.empty() ? width : widths[static_cast<std::size_t>(j)];
}

void ConvNetSpec::validate(std::int64_t image_size) const {
  RETORT_CHECK(!stages.empty(), "ConvNetSpec: needs at least one stage");
  for (std::size_t p = 0; p < stages.size(); ++p) {
    const ConvStage& s = stages[p];
    RETORT_CHECK(s.convs >= 1, "ConvNetSpec: stage ", p, " has convs = ", s.convs, " (need >= 1)");
    RETORT_CHECK(s.width >= 1, "ConvNetSpec: stage ", p, " has width = ", s.width, " (need >= 1)");
    RETORT_CHECK(s.kernel >= 1 && s.kernel % 2 == 1, "ConvNetSpec: stage ", p, " has kernel = ",
                 s.kernel, " (need odd >= 1 so padding k/2 keeps the size)");
    if (!s.widths.empty()) {
      RETORT_CHECK(static_cast<std::int64_t>(s.widths.size()) == s.convs, "ConvNetSpec: stage ", p,
                   " has ", s.widths.size(), " per-conv widths for ", s.convs, " convs");
      for (std::int64_t w : s.widths)
        RETORT_CHECK(w >= 1, "ConvNetSpec: stage ", p, " has a per-conv width ", w, " (need >= 1)");
      RETORT_CHECK(s.widths.back() == s.width, "ConvNetSpec: stage ", p, " has width ", s.width,
                   " but its last per-conv width is ", s.widths.back());
    }
  }
  RETORT_CHECK(hidden >= 0, "ConvNetSpec: hidden = ", hidden, " (need >= 0)");
  RETORT_CHECK(dropout >= 0 && dropout < 1, "ConvNetSpec: dropout = ", dropout,
               " (need 0 <= p < 1)");
  std::int64_t s = image_size;
  for (std::size_t p = 0; p < stages.size(); ++p) s /= 2;
  RETORT_CHECK(s >= 1, "ConvNetSpec: ", stages.size(), " stages pool a ", image_size, "x",
               image_size, " image below 1x1");
}

std::string ConvNetSpec::describe() const {
  std::ostringstream os;
  for (const ConvStage& s : stages) {
    os << '[';
    if (s.widths.empty()) {
      os << s.convs << 'x' << s.width;
    } else {
      for (std::size_t j = 0; j < s.widths.size(); ++j) os << (j ? "," : "") << s.widths[j];
    }
    os << " k" << s.kernel << "] ";
  }
  os << "fc" << hidden;
  return os.str();
}

std::int64_t ConvNetSpec::parameter_count(std::int64_t in_channels, std::int64_t num_classes,
                                          std::int64_t image_size) const {
  validate(image_size);
  std::int64_t n = 0, c = in_channels, side = image_size;
  for (const ConvStage& s : stages) {
    for (std::int64_t j = 0; j < s.convs; ++j) {
      std::int64_t w = s.conv_width(j);
      n += (c * s.kernel * s.kernel + 1) * w;
      c = w;
    }
    side /= 2;
  }
  std::int64_t flat = c * side * side;
  if (hidden == 0) return n + (flat + 1) * num_classes;
  return n + (flat + 1) * hidden + (hidden + 1) * num_classes;
}

std::int64_t ConvNetSpec::macs(std::int64_t in_channels, std::int64_t num_classes,
                               std::int64_t image_size) const {
  validate(image_size);
  std::int64_t m = 0, c = in_channels, side = image_size;
  for (const ConvStage& s : stages) {
    for (std::int64_t j = 0; j < s.convs; ++j) {
      std::int64_t w = s.conv_width(j);
      m += side * side * w * c * s.kernel * s.kernel;
      c = w;
    }
    side /= 2;
  }
  std::int64_t flat = c * side * side;
  if (hidden == 0) return m + flat * num_classes;
  return m + flat * hidden + hidden * num_classes;
}

ConvNetSpec ConvNetSpec::student_net() { return {{{1, 16, 3}, {1, 16, 3}}, 256}; }

ConvNetSpec ConvNetSpec::teacher_net() {
  return {{{2, 64, 3, {128, 64}}, {2, 32, 3, {64, 32}}}, 512};
}

ConvNet::ConvNet(ConvNetSpec spec_in, std::int64_t in_channels, std::int64_t num_classes,
                 std::int64_t image_size, const TensorOptions& tensor_options)
    : spec(std::move(spec_in)) {
  spec.validate(image_size);
  RETORT_CHECK(in_channels >= 1 && num_classes >= 1, "ConvNet: in_channels = ", in_channels,
               " and num_classes = ", num_classes, " (need >= 1)");
  auto feats = std::make_shared<Sequential>();
  std::int64_t c = in_channels, side = image_size;
  for (const ConvStage& s : spec.stages) {
    for (std::int64_t j = 0; j < s.convs; ++j) {
      std::int64_t w = s.conv_width(j);
      feats->push_back(std::make_shared<Conv2d>(c, w, s.kernel, /*stride=*/1, s.kernel / 2,
                                                /*dilation=*/1, /*groups=*/1, /*bias=*/true,
                                                tensor_options));
      feats->push_back(std::make_shared<ReLU>());
      c = w;
    }
    feats->push_back(std::make_shared<MaxPool2d>(2));
    side /= 2;
  }
  features = register_module("features", feats);
  std::int64_t flat = c * side * side;
  auto head = std::make_shared<Sequential>();
  if (spec.hidden == 0) {
    head->push_back(std::make_shared<Linear>(flat, num_classes, true, tensor_options));
  } else {
    head->push_back(std::make_shared<Linear>(flat, spec.hidden, true, tensor_options));
    head->push_back(std::make_shared<ReLU>());
    head->push_back(std::make_shared<Dropout>(spec.dropout));
    head->push_back(std::make_shared<Linear>(spec.hidden, num_classes, true, tensor_options));
  }
  classifier = register_module("classifier", head);
}

Tensor ConvNet::forward(const Tensor& x) { return (*classifier)(flatten((*features)(x), 1)); }

std::int64_t ConvNet::stage_output_index(std::int64_t p) const {
  RETORT_CHECK(p >= 0 && p < static_cast<std::int64_t>(spec.stages.size()),
               "ConvNet::stage_output_index: stage ", p, " of ", spec.stages.size());
  std::int64_t i = -1;
  for (std::int64_t q = 0; q <= p; ++q) i += 2 * spec.stages[static_cast<std::size_t>(q)].convs + 1;
  return i;
}

}  // namespace retort::nn
