// The zoo workloads mirror bench/peer/torch_zoo.py step for step (same batch, loss, optimiser and
// warm-up), so a line of each program's output compares directly.
#include <string>
#include <utility>
#include <vector>

#include "bench_timing.h"
#include "nn/functional.h"
#include "nn/zoo.h"
#include "optim/sgd.h"
#include "retort.h"

namespace retort::bench {

std::vector<std::pair<std::string, double>> zoo_workloads(const std::string& name, int steps,
                                                          Device device) {
  constexpr std::int64_t kZooBatch = 64;
  std::string canon = nn::canonical_model_name(name);
  manual_seed(0);
  Tensor x = randn({kZooBatch, 3, 32, 32}).to(device);
  Tensor y = randint(0, 100, {kZooBatch}).to(device);
  auto model = nn::create_model(canon, 100, {.device = device});
  optim::SGD opt(model->parameters(),
                 {.lr = nn::zoo_base_lr(canon), .momentum = 0.9, .weight_decay = 5e-4});
  std::vector<std::pair<std::string, double>> res;
  model->train();
  res.emplace_back(canon + "_train", images_per_second(kZooBatch, steps, [&] {
                     opt.zero_grad();
                     Tensor loss = nn::functional::cross_entropy((*model)(x), y);
                     loss.backward();
                     opt.step();
                   }));
  model->eval();
  res.emplace_back(canon + "_infer", images_per_second(kZooBatch, steps, [&] {
                     NoGradGuard ng;
                     (*model)(x);
                   }));
  return res;
}

}  // namespace retort::bench
