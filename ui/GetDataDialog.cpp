#include "GetDataDialog.h"

#include <filesystem>
#include <map>
#include <set>

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "settings/DataPaths.h"
#include "settings/UserDirs.h"

namespace bg::ui {

GetDataDialog::GetDataDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Get Data"));
  all_ = atlasDownloads(DataPaths::manifestDir(), {});
  const auto abide = DataPaths::resourceDir() / "datasets" / "abide1-pcp.json";
  if (std::filesystem::exists(abide))
    for (auto& f : abideDownloads(abide, {"cc200", "ho"}, {}, 0)) all_.push_back(std::move(f));
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(tr("Atlases, the MNI152 template and the ABIDE I example data (labelled ROI time series, with the phenotype "
                              "table) from their official sources. Every file is checked against the SHA-256 in its manifest; an "
                              "interrupted download resumes. Read each source's licence before you download."),
                           this);
  intro->setWordWrap(true);
  layout->addWidget(intro);
  table_ = new QTableWidget(this);
  table_->setColumnCount(4);
  table_->setHorizontalHeaderLabels({tr("Atlas"), tr("Files"), tr("Size"), tr("Licence")});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setWordWrap(true);
  table_->setTextElideMode(Qt::ElideNone);  // a licence is read whole, wrapped
  table_->horizontalHeader()->setSectionResizeMode(3, QHeaderView::Stretch);
  std::map<std::string, std::vector<const DataFile*>> byAtlas;
  for (const auto& f : all_) byAtlas[f.owner].push_back(&f);
  table_->setRowCount(static_cast<int>(byAtlas.size()));
  int row = 0;
  for (const auto& [id, files] : byAtlas) {
    std::int64_t bytes = 0;
    for (const auto* f : files) bytes += std::max<std::int64_t>(f->size, 0);
    auto* name = new QTableWidgetItem(QString::fromStdString(id));
    name->setFlags(name->flags() | Qt::ItemIsUserCheckable);
    // The example data is large and under its own terms: chosen on purpose, not by default.
    name->setCheckState(id.rfind("abide1-", 0) == 0 ? Qt::Unchecked : Qt::Checked);
    table_->setItem(row, 0, name);
    table_->setItem(row, 1, new QTableWidgetItem(QString::number(files.size())));
    table_->setItem(row, 2, new QTableWidgetItem(tr("%1 MB").arg(static_cast<double>(bytes) / 1e6, 0, 'f', 2)));
    auto* licence = new QTableWidgetItem(QString::fromStdString(files.front()->licence));
    licence->setToolTip(licence->text());
    table_->setItem(row, 3, licence);
    ++row;
  }
  table_->resizeColumnsToContents();
  table_->resizeRowsToContents();
  table_->setMinimumSize(760, 300);
  // Row heights follow the licence column's final width (known only once laid out).
  connect(table_->horizontalHeader(), &QHeaderView::sectionResized, table_,
          [this] { QTimer::singleShot(0, table_, [this] { table_->resizeRowsToContents(); }); });
  layout->addWidget(table_);

  auto* form = new QFormLayout;
  auto* folderRow = new QHBoxLayout;
  folder_ = new QLineEdit(QString::fromStdString(userFetchedDataDir().string()), this);
  folder_->setToolTip(tr("The user data folder is searched after the data path, so the workbench finds what lands there"));
  auto* browse = new QPushButton(tr("Browse…"), this);
  connect(browse, &QPushButton::clicked, this, [this] {
    const auto dir = QFileDialog::getExistingDirectory(this, tr("Data folder"), folder_->text());
    if (!dir.isEmpty()) folder_->setText(dir);
  });
  folderRow->addWidget(folder_);
  folderRow->addWidget(browse);
  form->addRow(tr("Download into"), folderRow);
  mirror_ = new QLineEdit(this);
  mirror_->setPlaceholderText(tr("the official servers"));
  mirror_->setToolTip(tr("A copy of the servers (such as a lab server holding a BrainGraph data folder): each URL keeps its path with this host"));
  form->addRow(tr("Server"), mirror_);
  layout->addLayout(form);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  layout->addWidget(summary_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  auto* download = buttons->addButton(tr("Accept Licences and Download"), QDialogButtonBox::AcceptRole);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);
  connect(table_, &QTableWidget::itemChanged, this, [this, download] {
    download->setEnabled(!chosenAtlases().empty());
    refresh();
  });
  connect(folder_, &QLineEdit::textChanged, this, [this] { refresh(); });
  refresh();
}

std::vector<std::string> GetDataDialog::chosenAtlases() const {
  std::vector<std::string> ids;
  for (int r = 0; r < table_->rowCount(); ++r)
    if (table_->item(r, 0) && table_->item(r, 0)->checkState() == Qt::Checked) ids.push_back(table_->item(r, 0)->text().toStdString());
  return ids;
}

std::vector<DataFile> GetDataDialog::chosenFiles() const {
  const auto ids = chosenAtlases();
  const std::set<std::string> wanted(ids.begin(), ids.end());
  std::vector<DataFile> out;
  for (const auto& f : all_)
    if (wanted.count(f.owner)) out.push_back(f);
  return out;
}

QString GetDataDialog::folder() const { return folder_->text().trimmed(); }
QString GetDataDialog::mirror() const { return mirror_->text().trimmed(); }

void GetDataDialog::refresh() {
  int present = 0, total = 0, manual = 0;
  const std::filesystem::path to = folder().toStdString();
  for (const auto& f : chosenFiles()) {
    ++total;
    std::error_code ec;
    if (std::filesystem::exists(to / f.path, ec)) ++present;
    if (f.url.empty() && f.archiveUrl.empty()) ++manual;
  }
  summary_->setText(tr("%1 file(s) chosen, %2 already in the folder (checked, not downloaded again). %3 have no download of their own "
                       "(label tables derived by the workbench's maintainers): without a server copy they are listed for you to copy by hand.")
                        .arg(total)
                        .arg(present)
                        .arg(manual));
}

}  // namespace bg::ui
