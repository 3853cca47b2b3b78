#pragma once
// The matrix tab: what to show (the selected scan's FC, a corpus class's group mean, or the
// difference of two class means) above a MatrixView. Group statistics are computed in a job.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <QWidget>

class QComboBox;
class QLabel;

namespace bg {
class Workspace;
}

namespace bg::ui {

class MatrixView;
class Workbench;

class MatrixPanel : public QWidget {
  Q_OBJECT
 public:
  MatrixPanel(Workbench& workbench, QWidget* parent = nullptr);
  void setWorkspace(Workspace* ws);
  void showScan(std::int64_t scanId);
  MatrixView* view() const { return view_; }
  QComboBox* source() const { return source_; }
  const std::string& currentAtlas() const { return atlas_; }
  QString currentTitle() const;
  QLabel* hoverReadout() const { return readout_; }

 Q_SIGNALS:
  void matrixShown();

 private:
  void sourceChanged(int index);
  // Names and networks of an atlas's ROIs when it is registered and has `rois` of them.
  std::pair<std::vector<std::string>, std::vector<std::string>> roiLabels(const std::string& atlas, Eigen::Index rois) const;
  Workbench& workbench_;
  Workspace* ws_ = nullptr;
  QComboBox* source_;
  MatrixView* view_;
  QLabel* readout_;
  std::int64_t scan_ = -1;
  std::string atlas_;
};

}  // namespace bg::ui
