// FitNets stage 1. The forward is cut at the guided layer by a hook that throws once it has the
// layer's output: the model's own code stays untouched (any Module works, not only Sequential),
// and the layers after the guided one never run, so nothing of theirs (not even BatchNorm running
// statistics) can change during stage 1.
#include "kd/fitnets.h"

#include <algorithm>
#include <set>

#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace retort::kd {

namespace {

// Thrown by the cut-off hook; caught in forward_until only.
struct StopForward {};

nn::Module& module_at(nn::Module& m, const std::string& path) {
  return path.empty() ? m : *m.submodule(path);
}

std::string owner_of(const std::string& param_name) {
  auto dot = param_name.rfind('.');
  return dot == std::string::npos ? std::string() : param_name.substr(0, dot);
}

}  // namespace

FitNetsStage1::FitNetsStage1(std::shared_ptr<nn::Module> student, std::string guided_path,
                             std::shared_ptr<nn::Module> teacher, std::string hint_path)
    : student_(std::move(student)),
      teacher_(std::move(teacher)),
      guided_path_(std::move(guided_path)),
      hint_path_(std::move(hint_path)) {
  RETORT_CHECK(student_ != nullptr && teacher_ != nullptr,
               "FitNetsStage1: null student or teacher");
  teacher_->requires_grad_(false);
  teacher_->eval();
}

FitNetsStage1::FitNetsStage1(std::shared_ptr<nn::Module> student, std::string guided_path,
                             std::shared_ptr<nn::Module> teacher, std::string hint_path,
                             const Tensor& example, HintKind kind)
    : FitNetsStage1(std::move(student), std::move(guided_path), std::move(teacher), std::move(hint_path)) {
  select_in_forward_order(example);
  build_regressor(example, kind);
}

FitNetsStage1::FitNetsStage1(std::shared_ptr<nn::Module> student, std::string guided_path,
                             std::shared_ptr<nn::Module> teacher, std::string hint_path,
                             const Tensor& example, std::vector<Tensor> params, HintKind kind)
    : FitNetsStage1(std::move(student), std::move(guided_path), std::move(teacher), std::move(hint_path)) {
  RETORT_CHECK(!params.empty(), "FitNetsStage1: empty parameter list");
  auto named = student_->named_parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto it = std::find_if(named.begin(), named.end(),
                           [&](const auto& np) { return np.second.same(params[i]); });
    RETORT_CHECK(it != named.end(), "FitNetsStage1: parameter ", i, " ", params[i].str(),
                 " is not a parameter of the student ", student_->type_name());
    selected_.push_back(it->second);
    selected_names_.push_back(it->first);
  }
  build_regressor(example, kind);
}

Tensor FitNetsStage1::forward_until(nn::Module& m, const std::string& path, const Tensor& x) {
  Tensor out;
  nn::HookHandle h = module_at(m, path).register_forward_hook(
      [&out](const nn::Module&, const Tensor&, const Tensor& y) {
        out = y;
        throw StopForward{};
      });
  try {
    m(x);
  } catch (const StopForward&) {
    return out;
  }
  fail("FitNetsStage1: the forward of ", m.type_name(), " never reached the module at '", path,
       "'");
}

void FitNetsStage1::select_in_forward_order(const Tensor& example) {
  module_at(*student_, guided_path_);  // throws naming the path and the valid ones
  std::vector<std::string> finished;
  std::vector<nn::HookHandle> hooks;
  auto record = [&finished](const std::string& p) {
    return [&finished, p](const nn::Module&, const Tensor&, const Tensor&) {
      finished.push_back(p);
    };
  };
  hooks.push_back(student_->register_forward_hook(record("")));
  for (auto& [p, mod] : student_->named_modules())
    hooks.push_back(mod->register_forward_hook(record(p)));
  const bool was_training = student_->is_training();
  student_->eval();
  {
    NoGradGuard no_grad;
    (*student_)(example);
  }
  student_->train(was_training);
  hooks.clear();

  auto g = std::find(finished.begin(), finished.end(), guided_path_);
  RETORT_CHECK(g != finished.end(), "FitNetsStage1: the forward of ", student_->type_name(),
               " never reached the guided module at '", guided_path_, "'");
  std::set<std::string> before(finished.begin(), g + 1);
  for (const auto& [name, p] : student_->named_parameters()) {
    if (p.requires_grad() && before.count(owner_of(name))) {
      selected_.push_back(p);
      selected_names_.push_back(name);
    }
  }
  RETORT_CHECK(!selected_.empty(), "FitNetsStage1: no trainable student parameter comes at or "
               "before the guided module '", guided_path_, "'");
}

void FitNetsStage1::build_regressor(const Tensor& example, HintKind kind) {
  Tensor fs, ft;
  const bool was_training = student_->is_training();
  student_->eval();
  {
    NoGradGuard no_grad;
    fs = forward_until(*student_, guided_path_, example);
    ft = forward_until(*teacher_, hint_path_, example);
  }
  student_->train(was_training);
  regressor_ = std::make_shared<HintRegressor>(kind, fs.sizes(), ft.sizes(),
                                               TensorOptions{fs.dtype(), fs.device()});
}

Tensor FitNetsStage1::loss(const Tensor& x) {
  Tensor ft;
  {
    NoGradGuard no_grad;
    teacher_->eval();
    ft = forward_until(*teacher_, hint_path_, x);
  }
  return hint_loss(*regressor_, forward_until(*student_, guided_path_, x), ft);
}

double FitNetsStage1::step(optim::Optimizer& optimizer, const Tensor& x) {
  optimizer.zero_grad();
  Tensor l = loss(x);
  l.backward();
  optimizer.step();
  return l.item<double>();
}

std::vector<Tensor> FitNetsStage1::parameters() const {
  std::vector<Tensor> out = selected_;
  for (auto& p : regressor_->parameters()) out.push_back(p);
  return out;
}

}  // namespace retort::kd
