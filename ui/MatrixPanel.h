#pragma once
// The matrix tab: what to show (the selected scan's FC, a corpus class's group mean, or the
// difference of two class means) above a MatrixView. Group statistics are computed in a job.
#include <cstdint>
#include <filesystem>
#include <string>

#include <QWidget>

class QComboBox;

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

 Q_SIGNALS:
  void matrixShown();

 private:
  void sourceChanged(int index);
  Workbench& workbench_;
  Workspace* ws_ = nullptr;
  QComboBox* source_;
  MatrixView* view_;
  std::int64_t scan_ = -1;
  std::string atlas_;
};

}  // namespace bg::ui
