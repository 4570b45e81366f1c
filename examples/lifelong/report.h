// kd_lifelong's results and reports (namespace retort::examples::lifelong): the accuracy
// matrices of a method, average accuracy and forgetting, the printed matrices and the heat map.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace retort::examples::lifelong {

inline constexpr std::int64_t kTasks = 5, kClasses = 10;

// acc[s][j]: accuracy (%) on task j's test classes after stage s (j ≤ s).
using Matrix = std::vector<std::vector<double>>;

struct MethodResult {
  std::string method;
  Matrix acc, task_aware;  // argmax over all seen classes / over the task's own classes
  double seconds = 0;
};

// The mean of the last row: accuracy after the last stage, averaged over the tasks.
double average_accuracy(const Matrix& m);
// Chaudhry et al. 2018: mean over j < T−1 of max_{j ≤ s < T−1} acc[s][j] − acc[T−1][j] (0 for one stage).
double forgetting(const Matrix& m);
// The matrix as a table: one row per stage, "-" for tasks not yet seen, the mean of each row.
void print_matrix(const std::string& method, const Matrix& acc, const char* what);
// OUT/lifelong_heatmap.png (and its .dat and .gp): one column per method, the class-incremental
// matrix on the top row and the task-aware one below, cells labelled, unseen tasks blank. Prints
// why there is none without gnuplot; returns false (after a message on stderr) when gnuplot failed.
bool plot_heatmaps(const std::string& out, const std::vector<MethodResult>& results);

}  // namespace retort::examples::lifelong
