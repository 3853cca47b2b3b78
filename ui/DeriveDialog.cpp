#include "DeriveDialog.h"

#include <algorithm>

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

#include "atlas/AtlasRegistry.h"
#include "workspace/Workspace.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::ui {
namespace {
enum Scope { Selected, Shown, All };
}

DeriveDialog::DeriveDialog(Workspace& ws, const AtlasRegistry& registry, std::vector<std::int64_t> selected, std::vector<std::int64_t> shown, QWidget* parent)
    : QDialog(parent), selected_(std::move(selected)), shown_(std::move(shown)) {
  setWindowTitle(tr("Derive Connectomes"));
  allScans_ = countScans(ws);
  sets_ = derivationParameterSets(ws);

  scope_ = new QComboBox(this);
  scope_->setToolTip(tr("Which scans to derive connectomes for"));
  if (!selected_.empty()) scope_->addItem(tr("The %n selected scan(s)", "", static_cast<int>(selected_.size())), Selected);
  if (shown_.size() != static_cast<std::size_t>(allScans_) && !shown_.empty())
    scope_->addItem(tr("The %n scan(s) the browser's filter shows", "", static_cast<int>(shown_.size())), Shown);
  scope_->addItem(tr("All %n scan(s) in the workspace", "", allScans_), All);

  atlases_ = new QListWidget(this);
  atlases_->setToolTip(tr("Atlases to parcellate BOLD volumes with (time-series scans keep the atlas they were given in)"));
  const auto used = derivedAtlases(ws);
  for (const auto* m : registry.parcellations()) {
    auto* item = new QListWidgetItem(QString::fromStdString(m->displayName), atlases_);
    item->setData(Qt::UserRole, QString::fromStdString(m->id));
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    // Default: the atlases the workspace already uses; for a new workspace, the eight of the paper.
    const auto paper = registry.paperParcellations();
    const bool on = used.empty() ? std::find(paper.begin(), paper.end(), m) != paper.end() : std::find(used.begin(), used.end(), m->id) != used.end();
    item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
  }

  settings_ = new QComboBox(this);
  settings_->setToolTip(
      tr("Pipeline settings. The first entry is what most of the workspace's connectomes were derived with; choosing "
         "other settings derives new connectomes beside the existing ones."));
  for (const auto& set : sets_)
    settings_->addItem(
        tr("As %n existing connectome(s): %1", "", set.derivatives).arg(QString::fromStdString(describePipeline(pipelineOptionsFromJson(set.json)))),
        QString::fromStdString(set.json));
  const auto defaults = pipelineParamsJson(PipelineOptions{});
  if (std::none_of(sets_.begin(), sets_.end(), [&](const ParameterSet& s) { return s.json == defaults; }))
    settings_->addItem(tr("Pipeline defaults: %1").arg(QString::fromStdString(describePipeline(PipelineOptions{}))), QString::fromStdString(defaults));

  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Derive"));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* form = new QFormLayout;
  form->addRow(tr("Scans:"), scope_);
  form->addRow(tr("Atlases:"), atlases_);
  form->addRow(tr("Settings:"), settings_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(summary_);
  layout->addWidget(buttons);
  connect(scope_, &QComboBox::currentIndexChanged, this, &DeriveDialog::updateSummary);
  connect(settings_, &QComboBox::currentIndexChanged, this, &DeriveDialog::updateSummary);
  connect(atlases_, &QListWidget::itemChanged, this, &DeriveDialog::updateSummary);
  updateSummary();
  auto* ok = buttons->button(QDialogButtonBox::Ok);
  connect(atlases_, &QListWidget::itemChanged, ok, [this, ok] { ok->setEnabled(!request().atlases.empty()); });
  resize(640, 460);
}

DeriveRequest DeriveDialog::request() const {
  DeriveRequest r;
  const int scope = scope_->currentData().toInt();
  if (scope == Selected)
    r.scanIds = selected_;
  else if (scope == Shown)
    r.scanIds = shown_;
  for (int i = 0; i < atlases_->count(); ++i)
    if (atlases_->item(i)->checkState() == Qt::Checked) r.atlases.push_back(atlases_->item(i)->data(Qt::UserRole).toString().toStdString());
  r.options = pipelineOptionsFromJson(settings_->currentData().toString().toStdString());
  return r;
}

void DeriveDialog::updateSummary() {
  const auto r = request();
  const int scans = r.scanIds.empty() ? allScans_ : static_cast<int>(r.scanIds.size());
  const bool existing = settings_->currentIndex() < static_cast<int>(sets_.size());
  summary_->setText(r.atlases.empty()
                        ? tr("Choose at least one atlas.")
                        : tr("%n scan(s): each BOLD volume is parcellated with %1 atlas(es); ROI time series are used in their own atlas. %2", "", scans)
                              .arg(r.atlases.size())
                              .arg(existing ? tr("Connectomes already derived with these settings are kept; only missing ones are computed.")
                                            : tr("These settings are new to this workspace: every chosen connectome is computed anew, beside "
                                                 "the existing ones.")));
}

}  // namespace bg::ui
