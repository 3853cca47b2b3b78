#pragma once
// The workspace tree. Until workspaces exist it shows the data path and the
// atlases the workbench found, with their verified ROI counts.
#include <QWidget>

#include "atlas/AtlasRegistry.h"

class QTreeWidget;
class QTreeWidgetItem;

namespace bg::ui {

class Workbench;

class WorkspacePanel : public QWidget {
  Q_OBJECT
 public:
  explicit WorkspacePanel(Workbench& workbench, QWidget* parent = nullptr);
  void showVerification(const std::vector<AtlasVerification>& results);
  // After the data path changed (Help › Get Data…): its text and the atlases, not verified yet.
  void refreshData();
  QTreeWidget* tree() const { return tree_; }

 private:
  Workbench& workbench_;
  QTreeWidget* tree_;
  QTreeWidgetItem* atlasRoot_ = nullptr;
  QTreeWidgetItem* dataItem_ = nullptr;
};

}  // namespace bg::ui
