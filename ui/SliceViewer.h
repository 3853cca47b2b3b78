#pragma once
// Orthogonal slices (axial, coronal, sagittal) of a BOLD or anatomical volume with a time slider
// and play button, an atlas overlay (label colours by network, opacity), a linked crosshair (click
// any view; arrows and Page Up/Down move it), and hover that names the ROI, its network and the value.
// Slices keep the voxel aspect ratio and are flipped by the affine so that anterior and superior are
// up and the patient's left is on the left (neurological, the default) or on the right (radiological,
// a setting shared with the report figures); each pane labels its edges L/R, A/P, S/I and names the
// convention. The overlay is the atlas resampled onto the scan's grid (nearest neighbour through both
// affines, as the connectome pipeline does).
#include <array>
#include <memory>
#include <optional>

#include <QImage>
#include <QWidget>

#include "atlas/LabelMap.h"
#include "io/NiftiImage.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;

namespace bg::ui {

class Workbench;
class SliceViewer;

class SlicePane : public QWidget {
  Q_OBJECT
 public:
  enum Plane { Axial, Coronal, Sagittal };
  SlicePane(SliceViewer& viewer, Plane plane, QWidget* parent = nullptr);
  Plane plane() const { return plane_; }
  // Voxel under a widget position (when on the slice).
  std::optional<std::array<std::int64_t, 3>> voxelAt(const QPoint& p) const;
  QPoint positionOf(const std::array<std::int64_t, 3>& voxel) const;
  // The letters at the left, right, top and bottom edges ("L", "R", "A", ...).
  std::array<QString, 4> edgeLabels() const;

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;

 private:
  QRectF imageRect() const;
  SliceViewer& viewer_;
  Plane plane_;
};

// The three slices as they meet in space: an orthographic view of the axial, coronal and sagittal
// planes through the crosshair, each cut into quadrants at the others and drawn back to front
// (exact for orthogonal planes, and cheap: QPainter, no OpenGL). Drag to turn it.
class SliceCube : public QWidget {
  Q_OBJECT
 public:
  explicit SliceCube(SliceViewer& viewer, QWidget* parent = nullptr);
  double azimuth() const { return azimuth_; }
  void setView(double azimuthDeg, double elevationDeg);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;

 private:
  SliceViewer& viewer_;
  double azimuth_ = -35, elevation_ = 22;
  QPoint last_;
};

class SliceViewer : public QWidget {
  Q_OBJECT
 public:
  explicit SliceViewer(Workbench& workbench, QWidget* parent = nullptr);
  // Reads the volume in a job (and maps the chosen atlas onto it); emits loaded() or shows the error.
  void load(const QString& file);
  void setAtlas(const QString& atlasId);  // "" = no overlay
  bool hasVolume() const { return volume_ != nullptr; }
  const NiftiVolume* volume() const { return volume_.get(); }
  const LabelMap* labels() const { return labels_.get(); }

  std::array<std::int64_t, 3> cursor() const { return cursor_; }
  void setCursor(const std::array<std::int64_t, 3>& voxel);
  int frame() const { return frame_; }
  void setFrame(int t);
  // "ROI name (network) — value" at a voxel, as the hover tooltip shows it.
  QString describe(const std::array<std::int64_t, 3>& voxel) const;
  SlicePane* pane(int plane) const { return panes_[static_cast<std::size_t>(plane)]; }
  SliceCube* cube() const { return cube_; }
  QSlider* timeSlider() const { return time_; }

  // Slice images (grey volume + overlay), used by the panes.
  QImage sliceImage(SlicePane::Plane plane) const;
  std::array<double, 2> sliceSizeMm(SlicePane::Plane plane) const;
  // Whether a pane shows its horizontal (voxel axis) reversed, and its vertical one reversed.
  bool flipsHorizontal(SlicePane::Plane plane) const;
  bool flipsVertical(SlicePane::Plane plane) const;
  // The world axis (0 x, 1 y, 2 z) a voxel axis runs along most, and whether it runs towards +.
  int worldAxisOf(int voxelAxis) const { return worldAxis_[static_cast<std::size_t>(voxelAxis)]; }
  bool runsPositive(int voxelAxis) const { return positive_[static_cast<std::size_t>(voxelAxis)]; }
  bool radiological() const;
  void setRadiological(bool on);
  QCheckBox* radiologicalCheck() const { return radiological_; }

 Q_SIGNALS:
  void loaded();
  void cursorChanged();

 protected:
  void keyPressEvent(QKeyEvent* e) override;

 private:
  void mapAtlas();
  void updateInfo();
  Workbench& workbench_;
  std::shared_ptr<NiftiVolume> volume_;
  std::shared_ptr<LabelMap> labels_;
  std::vector<QRgb> labelColours_;
  QString file_;
  double low_ = 0, high_ = 1;  // grey window
  std::array<std::int64_t, 3> cursor_{0, 0, 0};
  std::array<int, 3> worldAxis_{0, 1, 2};
  std::array<bool, 3> positive_{true, true, true};
  int frame_ = 0;
  std::array<SlicePane*, 3> panes_{};
  SliceCube* cube_ = nullptr;
  QComboBox* atlas_;
  QSlider* opacity_;
  QSlider* time_;
  QPushButton* play_;
  QCheckBox* radiological_;
  QTimer* player_;
  QLabel* info_;
};

}  // namespace bg::ui
