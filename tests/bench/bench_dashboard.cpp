// bench_dashboard: what following a long run costs the GUI thread. A run's curves file grows by a
// few points per batch; the Runs dock re-reads what is new every second and redraws the charts.
// Prints: the time to read and draw a long run's whole curves file when it is selected, and the
// cost of one refresh that finds new points (the per-second price of watching a run).
// Run: xvfb-run -a build/tests/bench/bench_dashboard [epochs] [batches-per-epoch]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <QApplication>

#include "RunDashboard.h"
#include "workspace/RunTracking.h"

using namespace bg;

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  const int epochs = argc > 1 ? std::stoi(argv[1]) : 100;
  const int batches = argc > 2 ? std::stoi(argv[2]) : 50;
  const auto dir = std::filesystem::temp_directory_path() / ("bench_dashboard_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  TrackedRun run;
  run.id = 1;
  run.state = JobState::Completed;
  run.logPath = (dir / "run.log").string();
  RunMetricsWriter writer(runMetricsPath(run.logPath));
  // A pre-training's curves: three losses, learning rate and throughput per batch.
  const auto write = [&writer, batches](int epoch, int batch) {
    const double x = epoch + (batch + 1.0) / batches;
    writer.metric("loss/total", x, 3.0 / (1.0 + x));
    writer.metric("loss/gcl", x, 2.0 / (1.0 + x));
    writer.metric("loss/gmae", x, 1.0 / (1.0 + x));
    writer.metric("lr", x, 1e-4);
    writer.metric("graphs_per_s", x, 60.0);
  };
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  for (int e = 0; e < epochs; ++e)
    for (int b = 0; b < batches; ++b) write(e, b);
  const double writeMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const long points = 5L * epochs * batches;

  ui::RunDashboard dashboard;
  dashboard.resize(1100, 450);
  dashboard.show();
  app.processEvents();
  t0 = Clock::now();
  dashboard.setRun(run);  // reads the whole file and draws
  app.processEvents();
  const double selectMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();

  // One refresh with a new batch's points, as every second during a run.
  const int rounds = 20;
  t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    write(epochs, r % batches);
    dashboard.poll();
    app.processEvents();
  }
  const double refreshMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / rounds;
  std::printf("points: %ld (%d epochs x %d batches x 5 curves), file %.1f MiB\n", points, epochs, batches,
              static_cast<double>(std::filesystem::file_size(runMetricsPath(run.logPath))) / (1024.0 * 1024.0));
  std::printf("write_us_per_point: %.2f\n", 1000.0 * writeMs / static_cast<double>(points));
  std::printf("select_run_ms: %.1f\n", selectMs);
  std::printf("refresh_with_new_points_ms: %.1f\n", refreshMs);
  std::printf("loss_points_drawn: %d\n", dashboard.lossPointCount());
  std::filesystem::remove_all(dir);
  return 0;
}
