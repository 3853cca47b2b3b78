#include "ConnectomeActors.h"

#include "atlas/NetworkColours.h"

#include <cstdlib>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <vtkActor.h>
#include <vtkCoordinate.h>
#include <vtkLegendBoxActor.h>
#include <vtkLineSource.h>
#include <vtkRegularPolygonSource.h>
#include <vtkTextProperty.h>
#include <vtkAppendPolyData.h>
#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkFloatArray.h>
#include <vtkSphereSource.h>
#include <vtkOpenGLSphereMapper.h>
#include <vtkTubeFilter.h>
#include <vtkUnsignedCharArray.h>

namespace bg::viz {
namespace {
vtkSmartPointer<vtkActor> actorFor(vtkPolyData* data, bool cellColours) {
  auto mapper = vtkSmartPointer<vtkPolyDataMapper>::New();
  mapper->SetInputData(data);
  mapper->SetColorModeToDirectScalars();
  if (cellColours)
    mapper->SetScalarModeToUseCellData();
  else
    mapper->SetScalarModeToUsePointData();
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  return actor;
}

}  // namespace

ConnectomeActors::ConnectomeActors(vtkRenderer* renderer) : renderer_(renderer) {}
ConnectomeActors::~ConnectomeActors() { clear(); }

void ConnectomeActors::clear() {
  for (auto* a : {&nodes_, &edges_, &highlight_})
    if (*a) {
      renderer_->RemoveActor(*a);
      *a = nullptr;
    }
  if (legend_) {
    renderer_->RemoveViewProp(legend_);
    legend_ = nullptr;
  }
  legendText_.clear();
  edgeList_.clear();
  shownEdges_ = shownNodes_ = 0;
}

void ConnectomeActors::set(const Eigen::MatrixXd& weights, const std::vector<std::optional<std::array<double, 3>>>& positions,
                           const std::vector<std::string>& networks, const ConnectomeStyle& style, const std::vector<double>& scores) {
  weights_ = weights;
  positions_ = positions;
  networks_ = networks;
  style_ = style;
  scores_ = scores;
  rebuild();
}

void ConnectomeActors::rebuild() {
  clear();
  const auto n = static_cast<int>(weights_.rows());
  if (n == 0 || static_cast<int>(positions_.size()) != n) return;
  // Edges: strongest |w| among placed node pairs.
  std::vector<std::pair<double, std::pair<int, int>>> candidates;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      if (positions_[static_cast<std::size_t>(i)] && positions_[static_cast<std::size_t>(j)] && std::isfinite(weights_(i, j)))
        candidates.push_back({std::abs(weights_(i, j)), {i, j}});
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::size_t keep = 0;
  if (style_.threshold > 0) {
    while (keep < candidates.size() && candidates[keep].first > style_.threshold) ++keep;
  } else if (style_.topCount > 0) {
    keep = std::min(candidates.size(), static_cast<std::size_t>(style_.topCount));
  } else {
    const auto total = static_cast<double>(n) * (n - 1) / 2.0;
    keep = std::min(candidates.size(), static_cast<std::size_t>(std::llround(style_.topFraction * total)));
  }
  bool anyPositive = false, anyNegative = false;
  for (std::size_t e = 0; e < keep; ++e) {
    const auto [i, j] = candidates[e].second;
    (weights_(i, j) >= 0 ? anyPositive : anyNegative) = true;
  }
  std::vector<double> degree(static_cast<std::size_t>(n), 0.0), strength(static_cast<std::size_t>(n), 0.0);
  auto points = vtkSmartPointer<vtkPoints>::New();
  for (int i = 0; i < n; ++i) {
    const auto& p = positions_[static_cast<std::size_t>(i)];
    points->InsertNextPoint(p ? p->data() : std::array<double, 3>{0, 0, 0}.data());
  }
  auto lines = vtkSmartPointer<vtkCellArray>::New();
  auto colours = vtkSmartPointer<vtkUnsignedCharArray>::New();
  colours->SetNumberOfComponents(3);
  colours->SetName("Colors");
  for (std::size_t e = 0; e < keep; ++e) {
    const auto [i, j] = candidates[e].second;
    edgeList_.push_back({i, j});
    degree[static_cast<std::size_t>(i)] += 1;
    degree[static_cast<std::size_t>(j)] += 1;
    strength[static_cast<std::size_t>(i)] += candidates[e].first;
    strength[static_cast<std::size_t>(j)] += candidates[e].first;
    const vtkIdType ids[2] = {i, j};
    lines->InsertNextCell(2, ids);
    const unsigned char red[3] = {214, 60, 60}, blue[3] = {70, 120, 220};
    colours->InsertNextTypedTuple(weights_(i, j) >= 0 ? red : blue);
  }
  auto edgeData = vtkSmartPointer<vtkPolyData>::New();
  edgeData->SetPoints(points);
  edgeData->SetLines(lines);
  edgeData->GetCellData()->SetScalars(colours);
  if (style_.tubes && keep > 0) {
    vtkNew<vtkTubeFilter> tube;
    tube->SetInputData(edgeData);
    tube->SetRadius(0.6);
    tube->SetNumberOfSides(6);
    tube->CappingOff();
    tube->Update();
    auto tubes = vtkSmartPointer<vtkPolyData>::New();
    tubes->DeepCopy(tube->GetOutput());
    edges_ = actorFor(tubes, true);
  } else {
    edges_ = actorFor(edgeData, true);
  }
  // Opaque: a translucent edge layer costs software GL about a quarter of the frame rate.
  edges_->GetProperty()->SetLineWidth(2.0);
  renderer_->AddActor(edges_);
  shownEdges_ = static_cast<int>(keep);

  // Nodes, sized by the chosen measure.
  std::vector<double> measure(static_cast<std::size_t>(n), 1.0);
  if (style_.nodeSize == "degree")
    measure = degree;
  else if (style_.nodeSize == "strength")
    measure = strength;
  else if (style_.nodeSize == "score" && static_cast<int>(scores_.size()) == n)
    measure = scores_;
  const double top = std::max(1e-12, *std::max_element(measure.begin(), measure.end()));
  // Nodes are sphere imposters (one screen-aligned quad each, shaded as a sphere in the fragment
  // shader): 300 tessellated spheres cost software GL more than the rest of the scene.
  auto nodePoints = vtkSmartPointer<vtkPoints>::New();
  auto nodeColours = vtkSmartPointer<vtkUnsignedCharArray>::New();
  nodeColours->SetNumberOfComponents(3);
  nodeColours->SetName("Colors");
  auto nodeVerts = vtkSmartPointer<vtkCellArray>::New();
  auto radii = vtkSmartPointer<vtkFloatArray>::New();
  radii->SetName("radius");
  for (int i = 0; i < n; ++i) {
    const auto& p = positions_[static_cast<std::size_t>(i)];
    if (!p) continue;
    const auto net = i < static_cast<int>(networks_.size()) ? networks_[static_cast<std::size_t>(i)] : std::string();
    const double r = style_.nodeRadius * (style_.nodeSize == "uniform" ? 1.0 : 0.5 + 1.5 * measure[static_cast<std::size_t>(i)] / top);
    const vtkIdType id = nodePoints->InsertNextPoint(p->data());
    nodeVerts->InsertNextCell(1, &id);  // the sphere mapper draws vertex cells
    const auto colour = networkColour(net);
    nodeColours->InsertNextTypedTuple(colour.data());
    radii->InsertNextValue(static_cast<float>(r));
    ++shownNodes_;
  }
  auto nodeData = vtkSmartPointer<vtkPolyData>::New();
  nodeData->SetPoints(nodePoints);
  nodeData->SetVerts(nodeVerts);
  nodeData->GetPointData()->SetScalars(nodeColours);
  nodeData->GetPointData()->AddArray(radii);
  auto sphereMapper = vtkSmartPointer<vtkOpenGLSphereMapper>::New();
  sphereMapper->SetInputData(nodeData);
  sphereMapper->SetScaleArray("radius");
  sphereMapper->SetColorModeToDirectScalars();
  sphereMapper->SetScalarModeToUsePointData();
  nodes_ = vtkSmartPointer<vtkActor>::New();
  nodes_->SetMapper(sphereMapper);
  renderer_->AddActor(nodes_);
  std::set<std::string> shown;  // networks of the nodes drawn
  for (int i = 0; i < n; ++i)
    if (positions_[static_cast<std::size_t>(i)] && i < static_cast<int>(networks_.size()) && !networks_[static_cast<std::size_t>(i)].empty())
      shown.insert(networks_[static_cast<std::size_t>(i)]);
  buildLegend(shown, anyPositive, anyNegative);
}

void ConnectomeActors::buildLegend(const std::set<std::string>& shown, bool anyPositive, bool anyNegative) {
  std::vector<std::pair<std::string, std::array<double, 3>>> entries;
  for (const auto& net : shown) {
    const auto c = networkColour(net);
    entries.push_back({net, {c[0] / 255.0, c[1] / 255.0, c[2] / 255.0}});
  }
  if (anyPositive) entries.push_back({"positive edge (r > 0)", {214 / 255.0, 60 / 255.0, 60 / 255.0}});
  if (anyNegative) entries.push_back({"negative edge (r < 0)", {70 / 255.0, 120 / 255.0, 220 / 255.0}});
  if (entries.empty()) return;
  vtkNew<vtkRegularPolygonSource> square;  // a filled disc for networks
  square->SetNumberOfSides(20);
  square->Update();
  vtkNew<vtkLineSource> line;  // a line for edges
  line->SetPoint1(-1, 0, 0);
  line->SetPoint2(1, 0, 0);
  line->Update();
  legend_ = vtkSmartPointer<vtkLegendBoxActor>::New();
  legend_->SetNumberOfEntries(static_cast<int>(entries.size()));
  for (std::size_t e = 0; e < entries.size(); ++e) {
    const bool edge = e + (anyPositive ? 1 : 0) + (anyNegative ? 1 : 0) >= entries.size();
    legend_->SetEntry(static_cast<int>(e), edge ? line->GetOutput() : square->GetOutput(), entries[e].first.c_str(), entries[e].second.data());
    legendText_.push_back(entries[e].first);
  }
  legend_->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
  legend_->GetPositionCoordinate()->SetValue(0.80, 0.98 - 0.045 * static_cast<double>(entries.size()));
  legend_->GetPosition2Coordinate()->SetCoordinateSystemToNormalizedViewport();
  legend_->GetPosition2Coordinate()->SetValue(0.19, 0.045 * static_cast<double>(entries.size()));
  legend_->UseBackgroundOn();
  legend_->SetBackgroundColor(0.92, 0.92, 0.94);  // light: every network colour reads on it, dark purple too
  legend_->SetBackgroundOpacity(0.9);
  legend_->BorderOff();
  legend_->GetEntryTextProperty()->SetColor(0.92, 0.92, 0.92);
  legend_->GetEntryTextProperty()->SetFontSize(12);
  legend_->SetPadding(3);
  renderer_->AddViewProp(legend_);
}

void ConnectomeActors::highlight(int node) {
  if (highlight_) {
    renderer_->RemoveActor(highlight_);
    highlight_ = nullptr;
  }
  if (node < 0 || node >= static_cast<int>(positions_.size()) || !positions_[static_cast<std::size_t>(node)]) return;
  auto points = vtkSmartPointer<vtkPoints>::New();
  auto lines = vtkSmartPointer<vtkCellArray>::New();
  points->InsertNextPoint(positions_[static_cast<std::size_t>(node)]->data());
  for (const auto& [i, j] : edgeList_) {
    if (i != node && j != node) continue;
    const int other = i == node ? j : i;
    const vtkIdType ids[2] = {0, points->InsertNextPoint(positions_[static_cast<std::size_t>(other)]->data())};
    lines->InsertNextCell(2, ids);
  }
  auto data = vtkSmartPointer<vtkPolyData>::New();
  data->SetPoints(points);
  data->SetLines(lines);
  auto append = vtkSmartPointer<vtkAppendPolyData>::New();
  append->AddInputData(data);
  vtkNew<vtkSphereSource> ball;
  const auto& c = *positions_[static_cast<std::size_t>(node)];
  ball->SetCenter(c[0], c[1], c[2]);
  ball->SetRadius(style_.nodeRadius * 2.2);
  ball->SetThetaResolution(16);
  ball->SetPhiResolution(10);
  ball->Update();
  append->AddInputData(ball->GetOutput());
  append->Update();
  auto out = vtkSmartPointer<vtkPolyData>::New();
  out->DeepCopy(append->GetOutput());
  out->GetPointData()->SetScalars(nullptr);
  auto mapper = vtkSmartPointer<vtkPolyDataMapper>::New();
  mapper->SetInputData(out);
  mapper->ScalarVisibilityOff();
  highlight_ = vtkSmartPointer<vtkActor>::New();
  highlight_->SetMapper(mapper);
  highlight_->GetProperty()->SetColor(1.0, 0.86, 0.16);
  highlight_->GetProperty()->SetLineWidth(4.0);
  renderer_->AddActor(highlight_);
}

int ConnectomeActors::pickNode(double x, double y, double radius) const {
  int best = -1;
  double bestDistance = radius;
  for (int i = 0; i < static_cast<int>(positions_.size()); ++i) {
    const auto& p = positions_[static_cast<std::size_t>(i)];
    if (!p) continue;
    renderer_->SetWorldPoint((*p)[0], (*p)[1], (*p)[2], 1.0);
    renderer_->WorldToDisplay();
    double d[3];
    renderer_->GetDisplayPoint(d);
    const double dist = std::hypot(d[0] - x, d[1] - y);
    if (dist < bestDistance) {
      bestDistance = dist;
      best = i;
    }
  }
  return best;
}

}  // namespace bg::viz
