// kd_zoo's flags (namespace retort::examples::zoo): what to train, on which data, with which
// protocol. Two presets:
//   seed         the seed experiment's: Adam lr 1e-3, batch 128, no augmentation, students 10 epochs,
//                teacher 5 (the default for the seed nets, TeacherNet → StudentNet)
//   repdistiller RepDistiller's train_teacher.py / train_student.py: SGD momentum 0.9, weight decay
//                5e-4, batch 64, 240 epochs, lr 0.05 (0.01 for MobileNetV2 and the ShuffleNets; per
//                network, so teacher and student may differ) ×0.1 after epochs 150, 180, 210 (at
//                the same fractions of a shorter run), RandomCrop(32, 4) + horizontal flip, the
//                dataset's mean/std (the default when --teacher or --student names a zoo network)
// Flags given explicitly (--lr, --batch, --epochs, --teacher-epochs, --augment) override the preset.
#pragma once
#include <cstdint>
#include <string>

#include "common/kd_experiment.h"

namespace retort::examples::zoo {

struct Args {
  std::string device = "cpu", loss = "kd", dataset = "cifar10", data, load_teacher, save_teacher, teacher_ckpt,
              csv, out = "kd_zoo_out", teacher = "TeacherNet", student = "StudentNet", protocol;
  int epochs = 10, teacher_epochs = 5, threads = 2;
  std::int64_t train_limit = -1, test_limit = -1, batch = 128, crd_k = 4096;
  double lr = 1e-3;   // the seed preset's; repdistiller's is per network (teacher_lr/student_lr)
  bool lr_given = false, augment = false;
  std::uint64_t seed = 42;
  bool costs = false;
  bool distributed = false, scale_batch = false;  // common/distributed.h
  CheckpointOptions checkpoint;

  bool repdistiller() const { return protocol == "repdistiller"; }
  std::int64_t classes() const { return dataset == "cifar100" ? 100 : 10; }
  double lr_for(const std::string& net) const;  // --lr, or the preset's lr for that network
  std::optional<SgdProtocol> sgd(int run_epochs) const;  // repdistiller: scaled milestones
};

// Reads and checks argv (usage errors exit 2); resolves the preset and the data folder.
Args parse_args(int argc, char** argv);

// "TeacherNet" / "StudentNet" (the seed nets) or a zoo name (nn/zoo.h, any case), with `classes`
// outputs. Throws naming the known networks.
std::shared_ptr<nn::Module> make_net(const std::string& name, std::int64_t classes);
bool is_seed_net(const std::string& name);

}  // namespace retort::examples::zoo
