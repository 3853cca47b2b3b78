#include "MatrixPanel.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QLabel>
#include <QPointer>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include "MatrixView.h"
#include "Workbench.h"
#include "errors/Error.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::ui {
namespace {
// Item data: kind (0 scan, 1 class mean, 2 difference), corpus, class a, class b.
struct Source {
  int kind = 0;
  QString corpus;
  int a = 0, b = 0;
};
}  // namespace

MatrixPanel::MatrixPanel(Workbench& workbench, QWidget* parent) : QWidget(parent), workbench_(workbench) {
  source_ = new QComboBox(this);
  source_->setToolTip(tr("Show the selected scan's FC, a corpus class's group mean, or the difference of two class means"));
  source_->setAccessibleName(tr("Matrix source"));
  view_ = new MatrixView(this);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Show:"), this));
  top->addWidget(source_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(view_, 1);
  connect(source_, &QComboBox::currentIndexChanged, this, &MatrixPanel::sourceChanged);
  setWorkspace(nullptr);
}

void MatrixPanel::setWorkspace(Workspace* ws) {
  ws_ = ws;
  scan_ = -1;
  const QSignalBlocker block(source_);
  source_->clear();
  source_->addItem(tr("Selected scan"), QVariantList{0, QString(), 0, 0});
  if (ws) {
    for (const auto& name : listCorpora(*ws)) {
      const auto m = loadCorpus(*ws, name);
      const auto& classes = m.at("classes");
      const auto corpus = QString::fromStdString(name);
      for (std::size_t c = 0; c < classes.size(); ++c)
        source_->addItem(tr("%1: mean of %2").arg(corpus, QString::fromStdString(classes[c].get<std::string>())),
                         QVariantList{1, corpus, static_cast<int>(c), 0});
      if (classes.size() == 2)
        source_->addItem(tr("%1: %2 − %3").arg(corpus, QString::fromStdString(classes[1].get<std::string>()),
                                              QString::fromStdString(classes[0].get<std::string>())),
                         QVariantList{2, corpus, 1, 0});
    }
  }
  view_->clear(ws ? tr("Select a scan, or a group above") : tr("Open a workspace to see connectivity matrices"));
}

QString MatrixPanel::currentTitle() const { return source_->currentIndex() == 0 ? tr("Scan %1").arg(scan_) : source_->currentText(); }

void MatrixPanel::showScan(std::int64_t scanId) {
  scan_ = scanId;
  if (source_->currentIndex() != 0) source_->setCurrentIndex(0);
  else sourceChanged(0);
}

void MatrixPanel::sourceChanged(int index) {
  if (!ws_ || index < 0) return;
  const auto d = source_->itemData(index).toList();
  const Source s{d.value(0).toInt(), d.value(1).toString(), d.value(2).toInt(), d.value(3).toInt()};
  if (s.kind == 0) {
    if (scan_ < 0) return;
    try {
      const auto derivatives = scanDerivatives(*ws_, scan_);
      if (derivatives.empty()) {
        view_->clear(tr("Scan %1 has no connectomes yet: derive them first (Tools ▸ Derive or braingraph-cli derive)").arg(scan_));
        return;
      }
      const auto& first = derivatives.front();
      std::vector<std::string> names, networks;
      if (workbench_.hasAtlases() && workbench_.atlases().contains(first.atlas)) {
        for (const auto& l : workbench_.atlases().labels(first.atlas)) {
          names.push_back(l.name);
          networks.push_back(l.network);
        }
      }
      const auto fc = ws_->arrays().read(first.fcArray);
      if (static_cast<Eigen::Index>(names.size()) != fc.rows()) names.clear(), networks.clear();
      atlas_ = first.atlas;
      view_->setMatrix(fc, names, networks, tr("Scan %1 — %2 Pearson FC").arg(scan_).arg(QString::fromStdString(first.atlas)), 1.0);
      Q_EMIT matrixShown();
    } catch (...) {
      const Error e = currentExceptionAsError();
      spdlog::error("{}", e.what());
      view_->clear(QString::fromStdString(e.what()));
    }
    return;
  }
  // Group statistics read hundreds of matrices: a job, with its own connection to the workspace.
  const auto dir = ws_->dir();
  view_->clear(tr("Computing %1…").arg(source_->itemText(index)));
  QPointer<MatrixPanel> self(this);
  const QString title = source_->itemText(index);
  workbench_.jobs().submit("group FC: " + title.toStdString(), [self, dir, s, title](JobContext& job) {
    auto ws = Workspace::open(dir);
    const auto manifest = loadCorpus(*ws, s.corpus.toStdString());
    Eigen::MatrixXd m;
    if (s.kind == 1) {
      m = groupMeanFc(*ws, manifest, s.a, job);
    } else {
      ProgressRange first(job, 0.0, 0.5), second(job, 0.5, 1.0);
      m = groupMeanFc(*ws, manifest, s.a, first) - groupMeanFc(*ws, manifest, s.b, second);
    }
    const std::string atlas = manifest.value("atlas", std::string());
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, m, s, title, atlas] {
          if (!self) return;
          self->atlas_ = atlas;
          self->view_->setMatrix(m, {}, {}, title, s.kind == 1 ? 1.0 : 0.0);
          Q_EMIT self->matrixShown();
        },
        Qt::QueuedConnection);
  });
}

}  // namespace bg::ui
