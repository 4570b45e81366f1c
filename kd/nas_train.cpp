// KdTraining and KdScorer (see nas_train.h). The teacher's logits are computed once per split and
// handed to every candidate's Distiller through its checkpoint state (the cache format of
// Distiller::load_state), so the search pays for one teacher pass instead of one per candidate.
// Each training keeps its own dropout stream so that successive halving's interleaving of
// candidates does not change any candidate's result: a candidate resumed over three rounds is the
// same training as one run straight to the last round's budget.
#include "kd/nas_train.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/common.h"
#include "kd/response.h"
#include "nn/functional.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace retort::kd::nas {

namespace {

Device device_of(nn::Module& m) {
  const std::vector<Tensor> p = m.parameters();
  return p.empty() ? kCPU : p.front().device();
}

// Swaps the global generator for a saved state and back (also when the training throws).
class GlobalStream {
 public:
  explicit GlobalStream(std::string& state) : state_(state), saved_(default_generator().state()) {
    default_generator().set_state(state_);
  }
  ~GlobalStream() {
    state_ = default_generator().state();
    default_generator().set_state(saved_);
  }

 private:
  std::string& state_;
  std::string saved_;
};

void check_split(const char* op, const Tensor& x, const Tensor& y) {
  RETORT_CHECK(x.defined() && y.defined() && x.dim() == 4 && y.dim() == 1 &&
                   y.dtype() == kInt64 && x.size(0) == y.size(0) && x.size(0) >= 1,
               op, ": images ", x.defined() ? x.str() : "(undefined)", " and labels ",
               y.defined() ? y.str() : "(undefined)", " must be [N, C, H, W] and int64 [N], N >= 1");
}

}  // namespace

Tensor teacher_logits(nn::Module& teacher, const Tensor& images, std::int64_t batch) {
  RETORT_CHECK(batch >= 1, "nas::teacher_logits: batch = ", batch);
  NoGradGuard ng;
  const bool was_training = teacher.is_training();
  teacher.eval();
  const Device dev = device_of(teacher);
  std::vector<Tensor> parts;
  for (std::int64_t s = 0; s < images.size(0); s += batch)
    parts.push_back(
        teacher(narrow(images, 0, s, std::min(batch, images.size(0) - s)).to(dev)).to(kCPU));
  teacher.train(was_training);
  RETORT_CHECK(!parts.empty(), "nas::teacher_logits: no images");
  return cat(parts, 0);
}

double accuracy(nn::Module& net, const Tensor& images, const Tensor& labels, std::int64_t batch) {
  check_split("nas::accuracy", images, labels);
  NoGradGuard ng;
  const bool was_training = net.is_training();
  net.eval();
  const Device dev = device_of(net);
  std::int64_t correct = 0;
  for (std::int64_t s = 0; s < images.size(0); s += batch) {
    const std::int64_t len = std::min(batch, images.size(0) - s);
    Tensor pred = argmax(net(narrow(images, 0, s, len).to(dev)), 1).to(kCPU);
    correct += sum(eq(pred, narrow(labels, 0, s, len))).item<std::int64_t>();
  }
  net.train(was_training);
  return 100.0 * static_cast<double>(correct) / static_cast<double>(images.size(0));
}

KdTraining::KdTraining(std::shared_ptr<nn::Module> student, std::shared_ptr<nn::Module> teacher,
                       Tensor images, Tensor labels, const Tensor& logits,
                       const KdTrainOptions& options)
    : student_(std::move(student)), images_(std::move(images)), labels_(std::move(labels)),
      options_(options), order_(options.seed) {
  check_split("nas::KdTraining", images_, labels_);
  RETORT_CHECK(options_.batch >= 1 && options_.lr > 0 && options_.kd_weight >= 0 &&
                   options_.ce_weight >= 0,
               "nas::KdTraining: batch = ", options_.batch, ", lr = ", options_.lr,
               ", kd_weight = ", options_.kd_weight, ", ce_weight = ", options_.ce_weight,
               " (need batch >= 1, lr > 0, weights >= 0)");
  check_temperature("nas::KdTraining", options_.T);
  distiller_ = std::make_unique<Distiller>(student_, std::move(teacher));
  const double T = options_.T;
  distiller_->add_term({"kd", options_.kd_weight, [T](const Context& c) {
                          return kd_loss(c.student_logits, c.teacher_logits, {.T = T});
                        }, {}, {}});
  distiller_->add_term({"ce", options_.ce_weight, [](const Context& c) {
                          return nn::functional::cross_entropy(c.student_logits, c.targets);
                        }, {}, {}});
  if (logits.defined()) {
    RETORT_CHECK(logits.dim() == 2 && logits.size(0) == images_.size(0),
                 "nas::KdTraining: teacher logits ", logits.str(), " for images ", images_.str(),
                 " must be [N, K]");
    nn::Checkpoint state;
    state.values.emplace("distiller.step", std::to_string(0));
    state.values.emplace("distiller.cache", std::to_string(1));
    state.tensors["distiller.cache.index"] = arange(images_.size(0), kInt64);
    state.tensors["distiller.cache.logits"] = unsqueeze(logits.to(kCPU).contiguous(), 1);
    distiller_->load_state(state);
  } else {
    distiller_->enable_teacher_cache();
  }
  adam_ = std::make_unique<optim::Adam>(student_->parameters(), optim::AdamOptions{.lr = options_.lr});
  // The dropout stream: a generator of its own, away from the batch order's seed.
  dropout_state_ = Generator(options_.seed ^ 0x9e3779b97f4a7c15ULL).state();
}

std::int64_t KdTraining::steps_per_epoch() const {
  return (images_.size(0) + options_.batch - 1) / options_.batch;
}

double KdTraining::train(std::int64_t steps, const OnStep& on_step) {
  RETORT_CHECK(steps >= 0, "nas::KdTraining::train: steps = ", steps);
  if (steps == 0) return 0;
  GlobalStream stream(dropout_state_);
  student_->train();
  const Device dev = device_of(*student_);
  const std::int64_t n = images_.size(0), per_epoch = steps_per_epoch();
  double loss_sum = 0;
  for (std::int64_t k = 0; k < steps; ++k, ++step_) {
    const std::int64_t b = step_ % per_epoch;
    if (b == 0) perm_ = randperm(n, &order_).to_vector<std::int64_t>();
    const std::int64_t begin = b * options_.batch, len = std::min(options_.batch, n - begin);
    std::vector<std::int64_t> idx(perm_.begin() + begin, perm_.begin() + begin + len);
    Tensor sel = from_vector(idx, {len});
    Tensor x = index_select(images_, 0, sel).to(dev), y = index_select(labels_, 0, sel).to(dev);
    StepResult r = distiller_->train_step(*adam_, x, y, idx);
    const double loss = r.total_value();
    RETORT_CHECK(std::isfinite(loss), "nas::KdTraining: loss ", loss, " at step ", step_,
                 " (terms kd ", r.values[0], ", ce ", r.values[1], ")");
    loss_sum += loss;
    if (on_step) {
      NoGradGuard ng;
      const std::int64_t correct =
          sum(eq(argmax(r.student_logits, 1), y)).item<std::int64_t>();
      on_step(step_ + 1, len, loss, correct);
    }
  }
  return loss_sum / static_cast<double>(steps);
}

KdScorer::KdScorer(std::shared_ptr<nn::Module> teacher, Tensor train_images, Tensor train_labels,
                   Tensor val_images, Tensor val_labels, const SearchSpace& space,
                   const KdTrainOptions& options, Device device, const Tensor& train_logits)
    : teacher_(std::move(teacher)), train_x_(std::move(train_images)),
      train_y_(std::move(train_labels)), val_x_(std::move(val_images)),
      val_y_(std::move(val_labels)), space_(space), options_(options), device_(device) {
  RETORT_CHECK(teacher_ != nullptr, "nas::KdScorer: teacher is null");
  check_split("nas::KdScorer (train)", train_x_, train_y_);
  check_split("nas::KdScorer (validation)", val_x_, val_y_);
  space_.validate();
  RETORT_CHECK(train_x_.size(1) == space_.in_channels && train_x_.size(2) == space_.image_size &&
                   train_x_.size(3) == space_.image_size,
               "nas::KdScorer: images ", train_x_.str(), " do not match the space's ",
               space_.in_channels, "x", space_.image_size, "x", space_.image_size);
  logits_ = train_logits.defined() ? train_logits : teacher_logits(*teacher_, train_x_);
  RETORT_CHECK(logits_.dim() == 2 && logits_.size(0) == train_x_.size(0) &&
                   logits_.size(1) == space_.num_classes,
               "nas::KdScorer: teacher logits ", logits_.str(), " for images ", train_x_.str(),
               " must be [N, ", space_.num_classes, "]");
}

double KdScorer::operator()(std::size_t index, const nn::ConvNetSpec& spec, std::int64_t budget) {
  const auto t0 = std::chrono::steady_clock::now();
  if (index >= runs_.size()) {
    runs_.resize(index + 1);
    specs_.resize(index + 1);
  }
  if (!runs_[index]) {
    manual_seed(options_.seed);
    auto net = std::make_shared<nn::ConvNet>(spec, space_.in_channels, space_.num_classes,
                                             space_.image_size);
    net->to(device_);
    runs_[index] = std::make_unique<KdTraining>(net, teacher_, train_x_, train_y_, logits_, options_);
    specs_[index] = spec;
  }
  RETORT_CHECK(specs_[index] == spec, "nas::KdScorer: candidate ", index, " was ",
               specs_[index].describe(), ", now ", spec.describe());
  KdTraining& run = *runs_[index];
  RETORT_CHECK(budget >= run.steps_done(), "nas::KdScorer: candidate ", index, " has trained ",
               run.steps_done(), " steps, asked for a total of ", budget);
  run.train(budget - run.steps_done(), on_step);
  const double acc = accuracy(run.student(), val_x_, val_y_);
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return acc;
}

KdTraining& KdScorer::training(std::size_t index) {
  RETORT_CHECK(index < runs_.size() && runs_[index], "nas::KdScorer::training: candidate ", index,
               " was never scored");
  return *runs_[index];
}

}  // namespace retort::kd::nas
