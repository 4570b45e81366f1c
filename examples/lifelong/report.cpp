// kd_lifelong's metrics and reports (see report.h). The heat map is one gnuplot multiplot of
// `with image` panels over a data file of (task, stage, accuracy) blocks, NaN for the cells of
// tasks not yet seen, which gnuplot leaves blank and the labels skip.
#include "lifelong/report.h"

#include <algorithm>
#include <cstdio>
#include <exception>

#include "common/report.h"
#include "tensor/atomic_file.h"

namespace retort::examples::lifelong {

double average_accuracy(const Matrix& m) {
  double s = 0;
  for (double v : m.back()) s += v;
  return s / static_cast<double>(m.back().size());
}

double forgetting(const Matrix& m) {
  const std::size_t last = m.size() - 1;
  if (last == 0) return 0;
  double f = 0;
  for (std::size_t j = 0; j < last; ++j) {
    double best = 0;
    for (std::size_t s = j; s < last; ++s) best = std::max(best, m[s][j]);
    f += best - m[last][j];
  }
  return f / static_cast<double>(last);
}

void print_matrix(const std::string& method, const Matrix& acc, const char* what) {
  std::printf("\n%s: test accuracy (%%) on each task's classes after each stage (%s)\n", method.c_str(), what);
  std::printf("%-12s", "after stage");
  for (std::int64_t j = 0; j < kTasks; ++j) std::printf("  task %lld", static_cast<long long>(j + 1));
  std::printf("  seen avg\n");
  for (std::size_t s = 0; s < acc.size(); ++s) {
    std::printf("%-12zu", s + 1);
    double sum = 0;
    for (std::size_t j = 0; j < static_cast<std::size_t>(kTasks); ++j) {
      if (j < acc[s].size()) {
        std::printf("  %6.2f", acc[s][j]);
        sum += acc[s][j];
      } else {
        std::printf("  %6s", "-");
      }
    }
    std::printf("  %8.2f\n", sum / static_cast<double>(acc[s].size()));
  }
}

// Heat maps, one column per method: the class-incremental accuracy matrix on the top row, the
// task-aware one below; x = task, y = stage, colour = accuracy, each cell labelled, the cells of
// tasks not yet seen blank. Returns false when the plot failed.
bool plot_heatmaps(const std::string& out, const std::vector<MethodResult>& results) {
  if (!gnuplot_available()) {
    std::printf("(gnuplot not installed: no heat map; apt-get install gnuplot-nox)\n");
    return true;
  }
  std::string dat;  // gnuplot data blocks: index i = method i class-incremental, n + i task-aware
  std::vector<std::string> titles;
  for (int aware = 0; aware < 2; ++aware)
    for (const auto& m : results) {
      const Matrix& acc = aware ? m.task_aware : m.acc;
      titles.push_back(m.method + (aware ? " (task-aware)" : " (class-incremental)"));
      for (std::size_t s = 0; s < acc.size(); ++s)
        for (std::size_t j = 0; j < static_cast<std::size_t>(kTasks); ++j)
          dat += std::to_string(j + 1) + " " + std::to_string(s + 1) + " " +
                 (j < acc[s].size() ? fmt(acc[s][j], 2) : std::string("NaN")) + "\n";
      dat += "\n\n";
    }
  const std::string dat_path = out + "/lifelong_heatmap.dat", png = out + "/lifelong_heatmap.png";
  try {
    write_file_atomically(dat_path, dat, "kd_lifelong heat map data");
    run_gnuplot(out + "/lifelong_heatmap.gp", {png}, [&](const std::vector<std::string>& outputs) {
      std::string g = "set terminal pngcairo noenhanced size " + std::to_string(420 * results.size()) +
                      ",840\nset output '" + outputs[0] + "'\nset multiplot layout 2," +
                      std::to_string(results.size()) +
                      " title 'CIFAR-10, 5 tasks of 2 classes: accuracy (%) on each task after each stage'\n"
                      "set xrange [0.5:5.5]\nset yrange [5.5:0.5]\nset cbrange [0:100]\nset xtics 1\nset ytics 1\n"
                      "set xlabel 'task'\nset ylabel 'after stage'\nset palette rgbformulae 33,13,10\nunset key\n";
      for (std::size_t i = 0; i < titles.size(); ++i)
        g += "set title '" + titles[i] + "'\nplot '" + dat_path + "' index " + std::to_string(i) +
             " using 1:2:3 with image, '' index " + std::to_string(i) +
             " using 1:2:(strcol(3) eq 'NaN' ? '' : sprintf('%.1f', $3)) with labels\n";
      return g + "unset multiplot\nunset output\n";
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plot not written: %s: %s\n", png.c_str(), e.what());
    return false;
  }
  std::printf("heat map: %s\n", png.c_str());
  return true;
}

}  // namespace retort::examples::lifelong
