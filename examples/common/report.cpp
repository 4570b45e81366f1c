// Text tables, CSV and gnuplot scripts. Every file goes through AtomicFile (tensor/atomic_file.h):
// complete or absent, a write error (a full disk) thrown. Plots are a convenience: a missing
// gnuplot is reported in one line and never fails a run, but a plot that gnuplot could not write
// whole is an error, not a 0-byte PNG.
#include "common/report.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "common/progress.h"
#include "tensor/atomic_file.h"
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
  std::ostringstream f;
  f << "run,epoch,train_loss,train_acc,test_acc,seconds,images_per_second\n";
  for (const auto& r : rows)
    f << r.run << ',' << r.epoch << ',' << r.loss << ',' << r.train_acc << ',' << r.test_acc << ',' << r.seconds
      << ',' << r.images_per_second << '\n';
  write_file_atomically(path, f.str(), "write_epoch_csv");
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

std::string Table::csv() const {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) out += (c ? "," : "") + cells[c];
    out += '\n';
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

void Table::write_csv(const std::string& path) const { write_file_atomically(path, csv(), "Table::write_csv"); }

std::string fmt(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

namespace {

// A path inside single quotes for the shell.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A whole PNG: the signature first and the IEND chunk last (a full disk cuts it short).
bool complete_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  static const std::string kSignature("\x89PNG\r\n\x1a\n", 8);
  static const std::string kEnd("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  return bytes.size() >= kSignature.size() + kEnd.size() && bytes.compare(0, 8, kSignature) == 0 &&
         bytes.compare(bytes.size() - kEnd.size(), kEnd.size(), kEnd) == 0;
}

int g_plot_failures = 0;

// Runs a plot; a failure is reported on stderr and counted (plot_failures()), not thrown: a run
// goes on to its remaining outputs and exits 1 at the end.
bool plotted(const std::function<void()>& plot) {
  try {
    plot();
    return true;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "plot not written: %s\n", e.what());
    ++g_plot_failures;
    return false;
  }
}

}  // namespace

int plot_failures() { return g_plot_failures; }

void run_gnuplot(const std::string& script_path, const std::vector<std::string>& pngs,
                 const std::function<std::string(const std::vector<std::string>& outputs)>& script) {
  std::vector<std::string> temps;
  for (const auto& p : pngs) temps.push_back(temp_path_for(p));
  auto drop = [&] {
    for (const auto& t : temps) std::remove(t.c_str());
  };
  for (const auto& p : pngs) remove_stale_temp_files(p);
  // The script kept for the user names the final files; gnuplot runs the same script with the
  // temporary names, from a temporary file of its own.
  write_file_atomically(script_path, script(pngs), "gnuplot script");
  const std::string run_script = temp_path_for(script_path);
  temps.push_back(run_script);
  write_file_atomically(run_script, script(temps), "gnuplot script");
  const int rc = std::system(("gnuplot " + shell_quote(run_script)).c_str());
  if (rc != 0) {
    drop();
    fail("gnuplot ", script_path, " failed (status ", rc, "); no plot written");
  }
  for (std::size_t i = 0; i < pngs.size(); ++i)
    if (!complete_png(temps[i])) {
      drop();
      fail("gnuplot ", script_path, ": ", pngs[i], " came out incomplete (disk full?); no plot written");
    }
  try {
    for (std::size_t i = 0; i < pngs.size(); ++i) publish_file(temps[i], pngs[i], "gnuplot");
  } catch (...) {
    drop();
    throw;
  }
  std::remove(run_script.c_str());
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
  const std::vector<std::pair<int, std::string>> plots = {{3, "loss"}, {5, "test_accuracy"}};
  std::vector<std::string> pngs;
  for (const auto& [col, name] : plots) pngs.push_back(out_dir + "/" + prefix + name + ".png");
  auto script = [&](const std::vector<std::string>& outputs) {
    std::string gp = "set datafile separator ','\nset terminal pngcairo noenhanced size 900,500\n"
                     "set xlabel 'epoch'\nset xrange [0.5:" + std::to_string(max_epoch) + ".5]\n";
    for (std::size_t p = 0; p < plots.size(); ++p) {
      const auto& [col, name] = plots[p];
      gp += "set output '" + outputs[p] + "'\nset ylabel '" + name + "'\nplot ";
      for (std::size_t i = 0; i < runs.size(); ++i)
        gp += (i ? ", " : "") + ("'< grep ^" + runs[i] + ", " + csv + "' using 2:" + std::to_string(col) +
                                 " with linespoints title '" + runs[i] + "'");
      gp += "\nunset output\n";
    }
    return gp;
  };
  if (!plotted([&] { run_gnuplot(out_dir + "/" + prefix + "plots.gp", pngs, script); })) return;
  std::printf("plots: %s, %s\n", pngs[0].c_str(), pngs[1].c_str());
}

void plot_bars(const std::string& csv, const std::string& png, const std::string& title,
               const std::string& ylabel, const std::vector<int>& value_columns) {
  if (!gnuplot_available()) {
    std::printf("(gnuplot not installed: no plot; apt-get install gnuplot-nox)\n");
    return;
  }
  std::string script = png.substr(0, png.size() - (png.size() > 4 ? 4 : 0)) + ".gp";
  auto gp = [&](const std::vector<std::string>& outputs) {
    std::string text = "set datafile separator ','\nset terminal pngcairo noenhanced size 1100,550\nset output '" +
                       outputs[0] + "'\nset title '" + title + "' font ',10'\nset ylabel '" + ylabel +
                       "'\nset style data histogram\nset style histogram clustered gap 1\nset style fill solid 0.8 "
                       "border -1\nset key autotitle columnhead outside\nset xtics rotate by -30\nset yrange [0:*]\nplot ";
    for (std::size_t i = 0; i < value_columns.size(); ++i)
      text += (i ? ", '' using " : "'" + csv + "' using ") + std::to_string(value_columns[i]) + (i ? "" : ":xtic(1)");
    return text + "\nunset output\n";
  };
  if (!plotted([&] { run_gnuplot(script, {png}, gp); })) return;
  std::printf("plot: %s\n", png.c_str());
}

void plot_xy(const std::string& csv, const std::string& png, const std::string& title, const std::string& xlabel,
             const std::string& ylabel, int x_column, const std::vector<int>& y_columns, bool log_x) {
  if (!gnuplot_available()) {
    std::printf("(gnuplot not installed: no plot; apt-get install gnuplot-nox)\n");
    return;
  }
  std::string script = png.substr(0, png.size() - (png.size() > 4 ? 4 : 0)) + ".gp";
  const std::string x = std::to_string(x_column);
  auto gp = [&](const std::vector<std::string>& outputs) {
    std::string text = "set datafile separator ','\nset terminal pngcairo noenhanced size 900,550\nset output '" +
                       outputs[0] + "'\nset title '" + title + "' font ',10'\nset xlabel '" + xlabel +
                       "'\nset ylabel '" + ylabel + "'\nset key autotitle columnhead bottom right\nset grid\n" +
                       (log_x ? "set logscale x\n" : "") + "plot ";
    for (std::size_t i = 0; i < y_columns.size(); ++i) {
      const std::string y = std::to_string(y_columns[i]);
      text += (i ? ", " : "") + std::string("'") + csv + "' using " + x + ":" + y + " with linespoints lw 2 pt 7";
      if (i == 0) text += ", '' using " + x + ":" + y + ":1 with labels offset 0,1 notitle";
    }
    return text + "\nunset output\n";
  };
  if (!plotted([&] { run_gnuplot(script, {png}, gp); })) return;
  std::printf("plot: %s\n", png.c_str());
}

}  // namespace retort::examples
