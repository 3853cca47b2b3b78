#include "WorkspacePanel.h"

#include <QHeaderView>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "Workbench.h"

namespace bg::ui {

WorkspacePanel::WorkspacePanel(Workbench& workbench, QWidget* parent) : QWidget(parent), workbench_(workbench) {
  tree_ = new QTreeWidget(this);
  tree_->setColumnCount(3);
  tree_->setHeaderLabels({tr("Item"), tr("ROIs"), tr("Status")});
  tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  tree_->setToolTip(tr("Data the workbench found; hover an atlas for its citation"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(tree_);

  dataItem_ = new QTreeWidgetItem(tree_, {tr("Data path"), QString(), QString()});
  dataItem_->setToolTip(0, tr("Set BRAINGRAPH_DATA, or data_path in the settings file, to use other copies"));
  atlasRoot_ = new QTreeWidgetItem(tree_, {tr("Atlases")});
  refreshData();
}

void WorkspacePanel::refreshData() {
  dataItem_->setText(2, QString::fromStdString(workbench_.dataPaths().describe()));
  qDeleteAll(atlasRoot_->takeChildren());
  if (!workbench_.hasAtlases()) {
    new QTreeWidgetItem(atlasRoot_, {tr("(none)"), QString(), QString::fromStdString(workbench_.atlasError())});
  } else {
    for (const auto* m : workbench_.atlases().parcellations()) {
      auto* item = new QTreeWidgetItem(atlasRoot_, {QString::fromStdString(m->id), QString::number(m->roiCount), tr("not verified")});
      item->setToolTip(0, QString::fromStdString(m->displayName + "\n" + m->citation));
      item->setData(0, Qt::UserRole, QString::fromStdString(m->id));
    }
  }
  tree_->expandAll();
  tree_->resizeColumnToContents(1);
}

void WorkspacePanel::showVerification(const std::vector<AtlasVerification>& results) {
  for (int i = 0; i < atlasRoot_->childCount(); ++i) {
    auto* item = atlasRoot_->child(i);
    const auto id = item->data(0, Qt::UserRole).toString().toStdString();
    for (const auto& v : results) {
      if (v.id != id) continue;
      item->setText(1, v.ok ? QString::number(v.verifiedRoiCount) : QStringLiteral("—"));
      const QString problem = QString::fromStdString(v.problem);
      item->setText(2, v.ok ? tr("verified") : (v.missing ? tr("missing: %1") : tr("does not match: %1")).arg(problem));
      item->setToolTip(2, v.ok ? QString::fromStdString(v.verifiedFile) : problem);
    }
  }
}

}  // namespace bg::ui
