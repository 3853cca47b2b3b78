#pragma once
// The 3D tab: the brain view with a connectome on it (the selected scan's FC or a group matrix):
// the strongest edges by |weight| (200 by default: readable on any atlas) or those above a threshold,
// nodes sized by degree, strength or uniform, a legend and an orientation cube; clicking a node
// highlights its edges and names its region.
#include <map>
#include <memory>
#include <string>

#include <Eigen/Core>
#include <QImage>
#include <QWidget>

#include "atlas/RoiPlacement.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace bg::viz {
class VtkView;
class ConnectomeActors;
}  // namespace bg::viz

namespace bg::ui {

class Workbench;

class ConnectomePanel : public QWidget {
  Q_OBJECT
 public:
  ConnectomePanel(Workbench& workbench, viz::VtkView* view, QWidget* parent = nullptr);
  ~ConnectomePanel() override;
  // Throws nothing: problems (no coordinates for the atlas) are shown in the panel.
  void showConnectome(const Eigen::MatrixXd& fc, const std::string& atlas, const QString& title);
  viz::ConnectomeActors& actors() { return *actors_; }
  QSpinBox* edgeCount() const { return edgeCount_; }
  QDoubleSpinBox* weightThreshold() const { return threshold_; }
  QCheckBox* tubes() const { return tubes_; }
  // Picks the node nearest a VTK display point; returns its index (-1: none) and shows its name.
  int pickAt(double x, double y);
  QString pickedName() const;
  // The 3D view rendered at a chosen size (for PNG export), whatever the window's size.
  QImage renderImage(const QSize& size);
  // Node sizes from per-ROI scores (e.g. a prediction's saliency); empty clears them.
  void setNodeScores(std::vector<double> scores);
  // A prediction's per-ROI attention, offered as another node size.
  void setNodeAttention(std::vector<double> attention);
  const RoiPlacement* placement() const { return placement_; }

 Q_SIGNALS:
  void nodePicked(int index, const QString& name);

 private:
  void restyle();
  Workbench& workbench_;
  viz::VtkView* view_;
  std::unique_ptr<viz::ConnectomeActors> actors_;
  QSpinBox* edgeCount_;
  QDoubleSpinBox* threshold_;
  QCheckBox* tubes_;
  QComboBox* nodeSize_;
  QLabel* info_;
  Eigen::MatrixXd fc_;
  std::map<std::string, RoiPlacement> placements_;
  const RoiPlacement* placement_ = nullptr;
  QString picked_;
  std::vector<double> scores_, attention_;
};

}  // namespace bg::ui
