#include "ScanBrowser.h"

#include <algorithm>

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include "workspace/Workspace.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::ui {

ScanBrowser::ScanBrowser(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel(tr("No workspace open (File ▸ Open Workspace…)"), this);
  title_->setWordWrap(true);
  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(tr("Filter: subject, site, diagnosis, atlas…"));
  filter_->setToolTip(tr("Shows the scans whose any column contains this text"));
  filter_->setClearButtonEnabled(true);
  model_ = new QStandardItemModel(this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setFilterKeyColumn(-1);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  proxy_->setSortRole(Qt::UserRole + 1);
  table_ = new QTableView(this);
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->setToolTip(tr("Scans of the workspace; select one to see its connectome, click a header to sort"));
  table_->setAccessibleName(tr("Scans"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addWidget(title_);
  layout->addWidget(filter_);
  layout->addWidget(table_);
  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
    if (!current.isValid()) return;
    const auto id = proxy_->index(current.row(), 0).data(Qt::UserRole + 1).toLongLong();
    Q_EMIT scanSelected(id);
  });
}

void ScanBrowser::setWorkspace(Workspace* ws) {
  model_->clear();
  if (!ws) {
    title_->setText(tr("No workspace open (File ▸ Open Workspace…)"));
    return;
  }
  const auto names = phenotypeNames(*ws);
  std::vector<std::string> columns;
  for (const char* preferred : {"diagnosis", "site", "age", "sex"})
    if (std::find(names.begin(), names.end(), preferred) != names.end()) columns.push_back(preferred);
  for (const auto& n : names)
    if (columns.size() < 4 && std::find(columns.begin(), columns.end(), n) == columns.end()) columns.push_back(n);
  QStringList headers = {tr("Scan"), tr("Dataset"), tr("Subject"), tr("Kind"), tr("Atlas"), tr("Connectomes")};
  for (const auto& c : columns) headers << QString::fromStdString(c);
  model_->setHorizontalHeaderLabels(headers);
  const auto scans = listScans(*ws, columns);
  for (const auto& s : scans) {
    QList<QStandardItem*> row;
    auto cell = [&](const QString& text, const QVariant& sortKey) {
      auto* item = new QStandardItem(text);
      item->setData(sortKey, Qt::UserRole + 1);
      item->setToolTip(QString::fromStdString(s.path));
      row << item;
    };
    cell(QString::number(s.id), QVariant::fromValue<qlonglong>(s.id));
    cell(QString::fromStdString(s.dataset), QString::fromStdString(s.dataset));
    cell(QString::fromStdString(s.subject), QString::fromStdString(s.subject));
    cell(QString::fromStdString(s.kind), QString::fromStdString(s.kind));
    cell(QString::fromStdString(s.atlas), QString::fromStdString(s.atlas));
    cell(QString::number(s.derivatives), s.derivatives);
    for (const auto& c : columns) {
      const auto it = s.phenotypes.find(c);
      const QString v = it == s.phenotypes.end() ? QString() : QString::fromStdString(it->second);
      bool numeric = false;
      const double d = v.toDouble(&numeric);
      cell(v, numeric ? QVariant(d) : QVariant(v));
    }
    model_->appendRow(row);
  }
  title_->setText(tr("%1: %n scan(s)", nullptr, static_cast<int>(scans.size())).arg(QString::fromStdString(ws->dir().string())));
  table_->resizeColumnsToContents();
}

bool ScanBrowser::selectFirstScan() {
  if (proxy_->rowCount() == 0) return false;
  // Selected anew even when it is already current (a restored session), so its views are shown.
  if (table_->currentIndex().row() == 0) table_->setCurrentIndex(QModelIndex());
  table_->setCurrentIndex(proxy_->index(0, 0));
  return true;
}

std::vector<std::int64_t> ScanBrowser::selectedScanIds() const {
  std::vector<std::int64_t> ids;
  for (const auto& index : table_->selectionModel()->selectedRows(0)) ids.push_back(index.data(Qt::UserRole + 1).toLongLong());
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::int64_t> ScanBrowser::shownScanIds() const {
  std::vector<std::int64_t> ids;
  for (int r = 0; r < proxy_->rowCount(); ++r) ids.push_back(proxy_->index(r, 0).data(Qt::UserRole + 1).toLongLong());
  std::sort(ids.begin(), ids.end());
  return ids;
}

QString ScanBrowser::currentScanPath() const {
  const auto index = table_->currentIndex();
  return index.isValid() ? proxy_->index(index.row(), 0).data(Qt::ToolTipRole).toString() : QString();
}

int ScanBrowser::visibleRows() const { return proxy_->rowCount(); }

bool ScanBrowser::selectScan(std::int64_t scanId) {
  for (int r = 0; r < proxy_->rowCount(); ++r)
    if (proxy_->index(r, 0).data(Qt::UserRole + 1).toLongLong() == scanId) {
      table_->setCurrentIndex(proxy_->index(r, 0));
      return true;
    }
  return false;
}

}  // namespace bg::ui
