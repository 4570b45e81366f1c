// A downstream program against the installed headers and library: the README's example (train
// StudentNet for a few steps, save a checkpoint) plus a gradient check of the result.
#include <retort.h>

#include <cstdio>
#include <filesystem>

int main() {
  using namespace retort;
  manual_seed(42);
  auto net = std::make_shared<nn::StudentNet>();
  optim::Adam opt(net->parameters(), {.lr = 1e-3});
  Tensor x = randn({8, 3, 32, 32});
  Tensor y = randint(0, 10, {8});
  double first = 0, last = 0;
  for (int step = 0; step < 10; ++step) {
    opt.zero_grad();
    Tensor loss = nn::functional::cross_entropy((*net)(x), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  auto path = std::filesystem::temp_directory_path() / "retort_consumer.safetensors";
  nn::save_safetensors(*net, path.string());
  auto loaded = nn::load_safetensors(path.string());
  std::filesystem::remove(path);
  std::printf("consumer: loss %.4f -> %.4f, %zu tensors saved\n", first, last, loaded.size());
  return (last < first && loaded.size() == 8) ? 0 : 1;
}
