#include "AboutDialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QVBoxLayout>

#include "BrainSurface.h"
#include "platform/Versions.h"

namespace bg::ui {

QString AboutDialog::versionText(const QString& torchVersion, const QString& device) {
  QStringList lines;
  lines << QStringLiteral("BrainGraph Workbench %1").arg(QString::fromStdString(braingraphVersion()));
  lines << QStringLiteral("Qt %1").arg(QString::fromLatin1(qVersion()));
  lines << QStringLiteral("VTK %1").arg(QString::fromLatin1(viz::vtkVersionString()));
  for (const auto& [name, version] : coreLibraryVersions()) lines << QStringLiteral("%1 %2").arg(QString::fromStdString(name), QString::fromStdString(version));
  lines << QStringLiteral("LibTorch %1 (in braingraph-cli)").arg(torchVersion);
  lines << QStringLiteral("Compute device: %1").arg(device);
  return lines.join(QLatin1Char('\n'));
}

AboutDialog::AboutDialog(const QString& torchVersion, const QString& device, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("About BrainGraph Workbench"));
  auto* title = new QLabel(tr("<h2>BrainGraph Workbench</h2><p>Brain graph foundation models for resting-state fMRI: "
                              "atlases, connectomes, BrainGFM, BrainMass and LCM.</p>"
                              "<p><b>Research use only.</b></p>"),
                           this);
  title->setWordWrap(true);
  auto* versions = new QLabel(versionText(torchVersion, device), this);
  versions->setObjectName(QStringLiteral("versions"));
  versions->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title);
  layout->addWidget(versions);
  layout->addWidget(buttons);
}

}  // namespace bg::ui
