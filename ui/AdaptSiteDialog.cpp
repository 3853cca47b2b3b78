#include "AdaptSiteDialog.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

#include "CliRunner.h"
#include "connectome/SiteStandardizer.h"
#include "eval/SiteAdaptation.h"

namespace bg::ui {

AdaptSiteDialog::AdaptSiteDialog(const QString& model, QWidget* parent) : QDialog(parent), model_(model) {
  setWindowTitle(tr("Adapt %1 to a new site").arg(QFileInfo(model).fileName()));
  site_ = new QLineEdit(this);
  site_->setPlaceholderText(tr("e.g. the hospital's scanner name"));
  site_->setToolTip(tr("The new site's name: give the same in the diagnosis wizard's Site field (or predict --site)"));
  scans_ = new QListWidget(this);
  scans_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  scans_->setToolTip(tr("At least %1 scans from the site (BOLD NIfTI or ROI time-series files), preferably a mix like its usual patients; "
                        "their labels are not needed and are not used")
                         .arg(SiteStandardizer::kMinScans));
  auto* add = new QPushButton(tr("Add Scans…"), this);
  add->setToolTip(tr("Choose scans of the site"));
  remove_ = new QPushButton(tr("Remove"), this);
  remove_->setToolTip(tr("Remove the selected scans from the list"));
  connect(add, &QPushButton::clicked, this, [this] {
    addScans(QFileDialog::getOpenFileNames(this, tr("Scans of the site"), QString(),
                                           tr("Scans (*.nii *.nii.gz *.1D *.1D.gz *.csv *.tsv *.npy);;All files (*)")));
  });
  connect(remove_, &QPushButton::clicked, this, [this] {
    qDeleteAll(scans_->selectedItems());
    revalidate();
  });
  connect(scans_, &QListWidget::itemSelectionChanged, this, [this] { remove_->setEnabled(!scans_->selectedItems().isEmpty()); });
  const QFileInfo info(model);
  output_ = new QLineEdit(this);
  output_->setToolTip(tr("The adapted model file (a new file; the trained model stays as it is)"));
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  auto* scanButtons = new QHBoxLayout;
  scanButtons->addWidget(add);
  scanButtons->addWidget(remove_);
  scanButtons->addStretch(1);
  auto* scanBox = new QVBoxLayout;
  scanBox->addWidget(scans_);
  scanBox->addLayout(scanButtons);
  auto* form = new QFormLayout;
  form->addRow(tr("Model:"), new QLabel(model, this));
  form->addRow(tr("Site:"), site_);
  form->addRow(tr("Scans:"), scanBox);
  form->addRow(tr("Write to:"), output_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  ok_ = buttons->button(QDialogButtonBox::Ok);
  ok_->setText(tr("Adapt"));
  ok_->setToolTip(tr("Compute the site's statistics from its scans and write the adapted model"));
  buttons->button(QDialogButtonBox::Cancel)->setToolTip(tr("Close without adapting"));
  connect(buttons, &QDialogButtonBox::accepted, this, &AdaptSiteDialog::adapt);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("A model whose input is standardised per site uses the pooled statistics for a site it was not trained on. "
                                  "Scans of that site, without labels, give it statistics of its own."),
                               this));
  layout->addLayout(form);
  layout->addWidget(message_);
  layout->addWidget(buttons);
  // The output follows the site's name until the user edits it.
  const auto followSite = [this, info] {
    const QString s = site_->text().trimmed();
    if (!output_->isModified())
      output_->setText(info.absolutePath() + QStringLiteral("/") + info.completeBaseName() + QStringLiteral("-") +
                       (s.isEmpty() ? QStringLiteral("site") : s) + QStringLiteral(".") + info.suffix());
    revalidate();
  };
  connect(site_, &QLineEdit::textChanged, this, followSite);
  connect(output_, &QLineEdit::textChanged, this, &AdaptSiteDialog::revalidate);
  followSite();
  remove_->setEnabled(false);
  revalidate();
}

void AdaptSiteDialog::addScans(const QStringList& files) {
  const auto present = scans();
  for (const auto& f : files)
    if (!present.contains(f)) scans_->addItem(f);
  revalidate();
}

QStringList AdaptSiteDialog::scans() const {
  QStringList out;
  for (int i = 0; i < scans_->count(); ++i) out << scans_->item(i)->text();
  return out;
}

QString AdaptSiteDialog::message() const { return message_->text(); }

QStringList AdaptSiteDialog::arguments() const {
  QStringList a{QStringLiteral("adapt-site"), QStringLiteral("--model"), model_, QStringLiteral("--site"), site_->text().trimmed(),
                QStringLiteral("--out"), output_->text().trimmed(), QStringLiteral("--in")};
  a << scans();
  return a;
}

QString AdaptSiteDialog::problem() const {
  if (site_->text().trimmed().isEmpty()) return tr("Name the site.");
  if (scans_->count() < SiteStandardizer::kMinScans)
    return tr("Add at least %1 scans of the site (%2 so far).").arg(SiteStandardizer::kMinScans).arg(scans_->count());
  if (output_->text().trimmed().isEmpty() || QFileInfo(output_->text().trimmed()) == QFileInfo(model_)) return tr("Choose a new file to write.");
  return {};
}

void AdaptSiteDialog::revalidate() {
  const QString p = problem();
  message_->setStyleSheet(QStringLiteral("color: #cf222e"));
  message_->setText(p);
  if (p.isEmpty() && scans_->count() < kRecommendedAdaptationScans) {  // allowed, but worth knowing before the clinic relies on it
    message_->setStyleSheet(QString());
    message_->setText(QString::fromStdString(siteAdaptationAdvice(scans_->count(), false)));  // the CLI's own caution
  }
  ok_->setEnabled(p.isEmpty() && !process_);
}

void AdaptSiteDialog::adapt() {
  if (process_ || !problem().isEmpty()) return;
  ok_->setEnabled(false);
  const QString out = output_->text().trimmed();
  process_ = startDialogCli(this, arguments(), message_, tr("Adapting…"), tr("Adapted: %1").arg(out),
                            [this, out] {
                              process_ = nullptr;
                              result_ = out;
                              Q_EMIT adapted(result_);
                              accept();
                            },
                            [this] {
                              process_ = nullptr;
                              revalidate();
                            });
}

}  // namespace bg::ui
