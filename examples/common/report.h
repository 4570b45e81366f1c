// Reporting for the CIFAR-10 examples (namespace retort::examples): the run table of
// cifar10_kd, generic text tables with their CSV form, the per-epoch CSV, and gnuplot plots
// (PNG, only when gnuplot is installed; otherwise a one-line note and nothing else).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "common/kd_experiment.h"

namespace retort::examples {

// "model params last acc best acc train time img/s", one row per run (cifar10_kd's table).
void print_run_table(const std::vector<RunResult>& results);

// run,epoch,train_loss,train_acc,test_acc,seconds,images_per_second — one line per EpochRow.
// Written through AtomicFile (tensor/atomic_file.h): a reader never sees half a file, and a write
// error (a full disk) throws instead of leaving a short or empty CSV.
void write_epoch_csv(const std::string& path, const std::vector<EpochRow>& rows);

// A table of strings: printed with padded columns (first column left-aligned, the others
// right-aligned), and written as CSV (header line, then one line per row; cells must not hold
// commas).
struct Table {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  void add(std::vector<std::string> row);  // throws unless it has header.size() cells
  void print() const;                        // title line, header, rows
  std::string csv() const;                   // header line, then one line per row
  void write_csv(const std::string& path) const;  // csv(), atomically (AtomicFile)
};

// printf-style formatting of one number: fmt(63.2587, 2) = "63.26".
std::string fmt(double value, int decimals);

bool gnuplot_available();
// Writes script(pngs) to script_path (for the user to rerun) and runs gnuplot on script(outputs),
// where outputs are temporary names (tensor/atomic_file.h's temp_path_for) standing for `pngs`:
// the script must write pngs[i] to outputs[i]. Each PNG is renamed into place only when gnuplot succeeded and every file is a
// complete PNG; otherwise the temporary files are removed and retort::Error is thrown.
void run_gnuplot(const std::string& script_path, const std::vector<std::string>& pngs,
                 const std::function<std::string(const std::vector<std::string>& outputs)>& script);

// Per-epoch curves from an epoch CSV (write_epoch_csv): for each of train_loss and test_acc a
// PNG "<out_dir>/<prefix>loss.png" / "<prefix>test_accuracy.png" with one line per run.
// Prints "plots: ..." or why there are none (no gnuplot). A plot that could not be written
// (gnuplot failed, a PNG came out incomplete) is reported on stderr ("plot not written: ...") and
// counted by plot_failures() rather than thrown, so a run still writes its other outputs.
void plot_epochs(const std::string& csv, const std::string& out_dir, const std::vector<std::string>& runs,
                 const std::string& prefix = "");

// How many plots failed so far in this process: the programs exit 1 at the end when any did.
int plot_failures();

// A clustered bar chart of a table CSV (Table::write_csv): bars of the columns `value_columns`
// (1-based CSV columns holding numbers), one cluster per row labelled by column 1. Prints
// "plot: <png>" or why there is none; failures as for plot_epochs.
void plot_bars(const std::string& csv, const std::string& png, const std::string& title,
               const std::string& ylabel, const std::vector<int>& value_columns);

// Lines of the columns `y_columns` (1-based CSV columns of numbers) against the numeric column
// `x_column` of a table CSV, one point per row, each point labelled by column 1; a log-scale x
// axis with log_x. Prints "plot: <png>" or why there is none; failures as for plot_epochs.
void plot_xy(const std::string& csv, const std::string& png, const std::string& title, const std::string& xlabel,
             const std::string& ylabel, int x_column, const std::vector<int>& y_columns, bool log_x = false);

}  // namespace retort::examples
