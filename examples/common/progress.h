// A one-line progress display for the example programs: batch i/n, running loss and accuracy,
// images/s and the ETA of the epoch, redrawn in place with '\r'.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace retort::examples {

inline std::string clock_str(double seconds) {
  char buf[32];
  int t = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
  return buf;
}

class Progress {
 public:
  Progress(std::string label, std::int64_t batches, std::int64_t images)
      : label_(std::move(label)), batches_(batches), images_(images), t0_(std::chrono::steady_clock::now()) {}

  // Records one batch of `n` images with its mean loss and number of correct predictions.
  void update(std::int64_t n, double loss, std::int64_t correct) {
    ++done_;
    seen_ += n;
    loss_sum_ += loss * static_cast<double>(n);
    correct_ += correct;
    double ips = static_cast<double>(seen_) / seconds();
    std::printf("\r%s [%4lld/%lld] loss %.4f acc %5.1f%% %7.0f img/s ETA %s   ", label_.c_str(),
                static_cast<long long>(done_), static_cast<long long>(batches_), mean_loss(), accuracy(), ips,
                clock_str(static_cast<double>(images_ - seen_) / ips).c_str());
    std::fflush(stdout);
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  double mean_loss() const { return seen_ ? loss_sum_ / static_cast<double>(seen_) : 0.0; }
  double accuracy() const { return seen_ ? 100.0 * static_cast<double>(correct_) / static_cast<double>(seen_) : 0.0; }
  double images_per_second() const { return static_cast<double>(seen_) / seconds(); }

  // The running sums, for a checkpoint, and back: a resumed epoch continues its averages exactly
  // and counts `seconds` already spent before the resume.
  struct Sums {
    std::int64_t done = 0, seen = 0, correct = 0;
    double loss_sum = 0, seconds = 0;
  };
  Sums sums() const { return {done_, seen_, correct_, loss_sum_, seconds()}; }
  void restore(const Sums& s) {
    done_ = s.done;
    seen_ = s.seen;
    correct_ = s.correct;
    loss_sum_ = s.loss_sum;
    t0_ = std::chrono::steady_clock::now() -
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s.seconds));
  }

 private:
  std::string label_;
  std::int64_t batches_, images_, done_ = 0, seen_ = 0, correct_ = 0;
  double loss_sum_ = 0;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace retort::examples
