#pragma once
// A connectome in 3D: ROI nodes as spheres at their MNI positions (colour by network, size by
// degree, strength or a given score such as attention) and edges as lines coloured by sign (red
// positive, blue negative), keeping the strongest |weight| edges (a count, or a top fraction) or those
// above a threshold, with a legend (network colours, edge sign). Nodes without a position are left out.
#include <array>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <vtkSmartPointer.h>

class vtkActor;
class vtkLegendBoxActor;
class vtkRenderer;

namespace bg::viz {

struct ConnectomeStyle {
  int topCount = 200;               // the strongest edges by |weight|: readable on any atlas (<= 0: use topFraction)
  double topFraction = 0.05;        // of the N(N-1)/2 edges, by |weight|
  double threshold = 0;             // > 0: |weight| above this instead of the top fraction
  std::string nodeSize = "degree";  // degree | strength | score | uniform
  double nodeRadius = 3.0;          // millimetres, scaled by the size measure
  bool tubes = false;               // edges as shaded tubes (radius by |weight|) instead of lines
};

class ConnectomeActors {
 public:
  explicit ConnectomeActors(vtkRenderer* renderer);
  ~ConnectomeActors();
  void set(const Eigen::MatrixXd& weights, const std::vector<std::optional<std::array<double, 3>>>& positions, const std::vector<std::string>& networks,
           const ConnectomeStyle& style, const std::vector<double>& scores = {});
  void clear();
  int shownEdges() const { return shownEdges_; }
  int shownNodes() const { return shownNodes_; }
  // Highlights one node and its shown edges (-1: none).
  void highlight(int node);
  // The node whose centre projects nearest to a display point (VTK display coordinates), within `radius` pixels.
  int pickNode(double x, double y, double radius = 12) const;
  // The legend's lines, top to bottom: each network shown, then the two edge signs.
  const std::vector<std::string>& legendEntries() const { return legendText_; }

 private:
  void rebuild();
  vtkRenderer* renderer_;
  void buildLegend(const std::set<std::string>& networks, bool anyPositive, bool anyNegative);
  vtkSmartPointer<vtkActor> nodes_, edges_, highlight_;
  vtkSmartPointer<vtkLegendBoxActor> legend_;
  std::vector<std::string> legendText_;
  Eigen::MatrixXd weights_;
  std::vector<std::optional<std::array<double, 3>>> positions_;
  std::vector<std::string> networks_;
  std::vector<double> scores_;
  ConnectomeStyle style_;
  std::vector<std::pair<int, int>> edgeList_;
  int shownEdges_ = 0, shownNodes_ = 0;
};

}  // namespace bg::viz
