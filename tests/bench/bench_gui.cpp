// bench_gui: the workbench's responsiveness, under Xvfb (llvmpipe):
//  * frames per second of the 3D view at 1280x800 with the brain and a Schaefer300 connectome
//    (300 nodes, the top 5% of edges), the camera turning a little every frame;
//  * the GUI thread's event-loop latency while a derivation job (every ABIDE scan's connectome,
//    band-pass on) runs on the workers: a 10 ms timer's lateness, maximum and 99th percentile.
// Run: xvfb-run -a -s "-screen 0 1600x1000x24" build/tests/bench/bench_gui
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <vtkCamera.h>
#include <vtkPolyData.h>
#include <vtkRenderer.h>

#include "BrainScene.h"
#include "BrainSurface.h"
#include "ConnectomeActors.h"
#include "VtkView.h"
#include "atlas/AtlasRegistry.h"
#include "atlas/RoiPlacement.h"
#include "io/NiftiImage.h"
#include "jobs/JobRunner.h"
#include "settings/DataPaths.h"
#include "settings/Settings.h"
#include "workspace/Derivation.h"
#include "workspace/Importers.h"
#include "workspace/Workspace.h"

using namespace bg;

int main(int argc, char** argv) {
  viz::VtkView::setDefaultSurfaceFormat();
  QApplication app(argc, argv);
  const auto data = DataPaths::resolve({}, Settings{});
  const auto registry = AtlasRegistry::load(DataPaths::manifestDir(), data);

  // 3D: brain + Schaefer300 connectome.
  viz::VtkView view;
  view.resize(1280, 800);
  view.show();
  viz::BrainScene scene(view.renderer());
  if (!qEnvironmentVariableIsSet("BENCH_NO_BRAIN")) {
    viz::BrainSurfaceOptions bo;
    if (qEnvironmentVariableIsSet("DECIMATE")) bo.decimate = qEnvironmentVariable("DECIMATE").toDouble();
    auto surface = viz::buildBrainSurface(readNiftiVolume(registry.resolve(registry.get("mni152").files.at("brain_mask_2mm"))), bo);
    std::printf("brain triangles: %lld\n", static_cast<long long>(surface->GetNumberOfPolys()));
    scene.setBrainSurface(surface);
  }
  const auto placement = roiPlacement(&registry, "schaefer300", 300);
  std::mt19937 rng(1);
  std::normal_distribution<double> g;
  Eigen::MatrixXd x(120, 300);
  for (int t = 0; t < 120; ++t)
    for (int r = 0; r < 300; ++r) x(t, r) = g(rng) + 0.5 * (r % 7 == t % 7);
  Eigen::MatrixXd c = x.rowwise() - x.colwise().mean();
  Eigen::MatrixXd cov = c.transpose() * c;
  const Eigen::VectorXd d = cov.diagonal().cwiseSqrt().cwiseInverse();
  Eigen::MatrixXd fc = d.asDiagonal() * cov * d.asDiagonal();
  fc.diagonal().setZero();
  viz::ConnectomeActors connectome(view.renderer());
  if (!qEnvironmentVariableIsSet("BENCH_NO_CONNECTOME")) connectome.set(fc, placement.positions, placement.networks, viz::ConnectomeStyle{});
  view.renderer()->ResetCamera();  // frame what is shown (without the brain, the nodes)
  for (int i = 0; i < 10; ++i) {   // warm-up: shaders, buffers
    view.repaint();
    app.processEvents();
  }
  const int frames = 120;
  QElapsedTimer timer;
  timer.start();
  for (int i = 0; i < frames; ++i) {
    view.renderer()->GetActiveCamera()->Azimuth(3);
    view.repaint();
    app.processEvents();
  }
  const double fps = frames / (timer.nsecsElapsed() * 1e-9);
  if (qEnvironmentVariableIsSet("BENCH_NO_PEELING")) {
    view.renderer()->SetUseDepthPeeling(false);
    timer.restart();
    for (int i = 0; i < frames; ++i) {
      view.renderer()->GetActiveCamera()->Azimuth(3);
      view.repaint();
      app.processEvents();
    }
    std::printf("connectome_3d_fps_without_depth_peeling: %.1f\n", frames / (timer.nsecsElapsed() * 1e-9));
    return 0;
  }
  std::printf("view: %dx%d, %d nodes, %d edges\n", view.width(), view.height(), connectome.shownNodes(), connectome.shownEdges());
  std::printf("connectome_3d_fps: %.1f\n", fps);

  // Event-loop latency while deriving on the workers.
  const auto dir = std::filesystem::temp_directory_path() / ("bench_gui_ws_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto ws = Workspace::create(dir);
  NullProgress quiet;
  importAbide(*ws, data.find("data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv"), data.find("data/abide1-cc200/rois_cc200"), quiet);
  JobRunner jobs(2);
  std::vector<double> lateness;
  QElapsedTimer clock;
  qint64 last = 0;
  QTimer tick;
  tick.setTimerType(Qt::PreciseTimer);
  QObject::connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed();
    if (last) lateness.push_back(std::max(0.0, (now - last) * 1e-6 - 10.0));
    last = now;
  });
  DeriveRequest req;
  auto job = jobs.submit("derive", [&](JobContext& ctx) { deriveConnectomes(*ws, registry, req, ctx); });
  clock.start();
  tick.start(10);
  while (!job->waitFor(std::chrono::milliseconds(0))) app.processEvents(QEventLoop::WaitForMoreEvents, 50);
  tick.stop();
  const double seconds = clock.nsecsElapsed() * 1e-9;
  std::sort(lateness.begin(), lateness.end());
  std::printf("derive_seconds: %.1f (%s)\n", seconds, job->snapshot().state == JobState::Completed ? "completed" : job->snapshot().error.c_str());
  std::printf("event_loop_ticks: %zu\n", lateness.size());
  std::printf("event_loop_max_lateness_ms: %.1f\n", lateness.empty() ? 0.0 : lateness.back());
  std::printf("event_loop_p99_lateness_ms: %.1f\n", lateness.empty() ? 0.0 : lateness[lateness.size() * 99 / 100]);
  ws.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
