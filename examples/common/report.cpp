// Text tables, CSV and gnuplot scripts. Plots are a convenience: a missing gnuplot is reported
// in one line and never fails a run.
#include "common/report.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/progress.h"
#include "tensor/error.h"

namespace retort::examples {

void print_run_table(const std::vector<RunResult>& results) {
  std::printf("\n%-11s %10s %10s %10s %10s %10s\n", "model", "params", "last acc", "best acc", "train time",
              "img/s");
  for (const auto& r : results)
    std::printf("%-11s %10lld %9.2f%% %9.2f%% %10s %10.0f\n", r.name.c_str(), static_cast<long long>(r.params),
                r.last, r.best, clock_str(r.seconds).c_str(), r.images_per_second);
}

void write_epoch_csv(const std::string& path, const std::vector<EpochRow>& rows) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << "run,epoch,train_loss,train_acc,test_acc,seconds,images_per_second\n";
    for (const auto& r : rows)
      f << r.run << ',' << r.epoch << ',' << r.loss << ',' << r.train_acc << ',' << r.test_acc << ','
        << r.seconds << ',' << r.images_per_second << '\n';
    if (!f) fail("write_epoch_csv: cannot write ", tmp);
  }
  std::filesystem::rename(tmp, path);
}

void Table::add(std::vector<std::string> row) {
  RETORT_CHECK(row.size() == header.size(), "Table::add: '", title, "' has ", header.size(), " columns, row has ",
               row.size());
  rows.push_back(std::move(row));
}

namespace {

// Display width of UTF-8 text: its code points (labels use ·, ², …), not its bytes.
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
}

}  // namespace

void Table::print() const {
  std::vector<std::size_t> w(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    w[c] = width(header[c]);
    for (const auto& r : rows) w[c] = std::max(w[c], width(r[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      std::string pad(w[c] - width(cells[c]), ' ');
      std::printf("%s%s", c == 0 ? "" : "  ", (c == 0 ? cells[c] + pad : pad + cells[c]).c_str());
    }
    std::printf("\n");
  };
  std::printf("\n%s\n", title.c_str());
  line(header);
  for (const auto& r : rows) line(r);
}

void Table::write_csv(const std::string& path) const {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    auto line = [&](const std::vector<std::string>& cells) {
      for (std::size_t c = 0; c < cells.size(); ++c) f << (c ? "," : "") << cells[c];
      f << '\n';
    };
    line(header);
    for (const auto& r : rows) line(r);
    if (!f) fail("Table::write_csv: cannot write ", tmp);
  }
  std::filesystem::rename(tmp, path);
}

std::string fmt(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

bool run_gnuplot(const std::string& script_path, const std::string& script) {
  {
    std::ofstream f(script_path);
    f << script;
    if (!f) return false;
  }
  return std::system(("gnuplot " + script_path).c_str()) == 0;
}

void plot_epochs(const std::string& csv, const std::string& out_dir, const std::vector<std::string>& runs,
                 const std::string& prefix) {
  if (!gnuplot_available()) {
    std::printf("(gnuplot not installed: no plots; apt-get install gnuplot-nox)\n");
    return;
  }
  // The data come through grep without the CSV header, so no 'columnhead' (it would eat each
  // run's first epoch); a fixed x range keeps a one-epoch run (a single point) plottable.
  int max_epoch = 1;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    if (c1 != std::string::npos && c2 != std::string::npos)
      max_epoch = std::max(max_epoch, std::atoi(line.substr(c1 + 1, c2 - c1 - 1).c_str()));
  }
  std::string gp = "set datafile separator ','\nset terminal pngcairo noenhanced size 900,500\n"
                   "set xlabel 'epoch'\nset xrange [0.5:" + std::to_string(max_epoch) + ".5]\n";
  for (auto [col, name] : {std::pair{3, "loss"}, std::pair{5, "test_accuracy"}}) {
    gp += "set output '" + out_dir + "/" + prefix + name + ".png'\nset ylabel '" + name + "'\nplot ";
    for (std::size_t i = 0; i < runs.size(); ++i)
      gp += (i ? ", " : "") + ("'< grep ^" + runs[i] + ", " + csv + "' using 2:" + std::to_string(col) +
                               " with linespoints title '" + runs[i] + "'");
    gp += "\n";
  }
  if (run_gnuplot(out_dir + "/" + prefix + "plots.gp", gp))
    std::printf("plots: %s/%sloss.png, %s/%stest_accuracy.png\n", out_dir.c_str(), prefix.c_str(),
                out_dir.c_str(), prefix.c_str());
}

void plot_bars(const std::string& csv, const std::string& png, const std::string& title,
               const std::string& ylabel, const std::vector<int>& value_columns) {
  if (!gnuplot_available()) {
    std::printf("(gnuplot not installed: no plot; apt-get install gnuplot-nox)\n");
    return;
  }
  std::string gp = "set datafile separator ','\nset terminal pngcairo noenhanced size 1100,550\nset output '" + png +
                   "'\nset title '" + title + "' font ',10'\nset ylabel '" + ylabel +
                   "'\nset style data histogram\nset style histogram clustered gap 1\nset style fill solid 0.8 "
                   "border -1\nset key autotitle columnhead outside\nset xtics rotate by -30\nset yrange [0:*]\nplot ";
  for (std::size_t i = 0; i < value_columns.size(); ++i)
    gp += (i ? ", '' using " : "'" + csv + "' using ") + std::to_string(value_columns[i]) + (i ? "" : ":xtic(1)");
  gp += "\n";
  std::string script = png.substr(0, png.size() - (png.size() > 4 ? 4 : 0)) + ".gp";
  if (run_gnuplot(script, gp)) std::printf("plot: %s\n", png.c_str());
}

}  // namespace retort::examples
