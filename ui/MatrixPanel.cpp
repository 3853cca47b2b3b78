#include "MatrixPanel.h"

#include <algorithm>
#include <optional>

#include <QComboBox>
#include <QCoreApplication>
#include <QLabel>
#include <QPointer>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include "MatrixView.h"
#include "Workbench.h"
#include "connectome/GroupComparison.h"
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
  readout_ = new QLabel(tr("Hover over the matrix to read a value"), this);
  readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  readout_->setToolTip(tr("The cell under the mouse: the two regions, the value and, for a group test, p and FDR q"));
  connect(view_, &MatrixView::hovered, readout_, &QLabel::setText);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Show:"), this));
  top->addWidget(source_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(view_, 1);
  layout->addWidget(readout_);
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
        source_->addItem(tr("%1: %2 vs %3, Welch t per edge (FDR)")
                             .arg(corpus, QString::fromStdString(classes[1].get<std::string>()), QString::fromStdString(classes[0].get<std::string>())),
                         QVariantList{2, corpus, 1, 0});
    }
  }
  view_->clear(ws ? tr("Select a scan, or a group above") : tr("Open a workspace to see connectivity matrices"));
}

QString MatrixPanel::currentTitle() const { return source_->currentIndex() == 0 ? tr("Scan %1").arg(scan_) : source_->currentText(); }

void MatrixPanel::showScan(std::int64_t scanId) {
  scan_ = scanId;
  if (source_->currentIndex() != 0)
    source_->setCurrentIndex(0);
  else
    sourceChanged(0);
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
      const auto fc = ws_->arrays().read(first.fcArray);
      auto [names, networks] = roiLabels(first.atlas, fc.rows());
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
    std::optional<EdgeComparison> test;
    QString shownTitle = title;
    if (s.kind == 1) {
      m = groupMeanFc(*ws, manifest, s.a, job);
    } else {
      // Welch's t per edge on Fisher-z FC, with Benjamini-Hochberg FDR over all edges.
      ProgressRange first(job, 0.0, 0.5), second(job, 0.5, 1.0);
      const auto a = groupFisherZMoments(*ws, manifest, s.a, first);
      const auto b = groupFisherZMoments(*ws, manifest, s.b, second);
      test = welchEdgeComparison(a, b);
      m = test->t;
      shownTitle = tr("%1 — Welch t of Fisher-z FC (n = %2 vs %3); faded: FDR q ≥ 0.05; %4 of %5 edges significant")
                       .arg(title.left(title.indexOf(QStringLiteral(", Welch"))))
                       .arg(a.n)
                       .arg(b.n)
                       .arg(test->significant)
                       .arg(test->tests);
    }
    const std::string atlas = manifest.value("atlas", std::string());
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, m, s, shownTitle, atlas, test] {
          if (!self) return;
          self->atlas_ = atlas;
          auto [names, networks] = self->roiLabels(atlas, m.rows());
          self->view_->setMatrix(m, names, networks, shownTitle, s.kind == 1 ? 1.0 : 0.0);
          if (test) self->view_->setSignificance(test->p, test->q, test->alpha);
          Q_EMIT self->matrixShown();
        },
        Qt::QueuedConnection);
  });
}

std::pair<std::vector<std::string>, std::vector<std::string>> MatrixPanel::roiLabels(const std::string& atlas, Eigen::Index rois) const {
  std::vector<std::string> names, networks;
  try {
    if (workbench_.hasAtlases() && workbench_.atlases().contains(atlas))
      for (const auto& l : workbench_.atlases().labels(atlas)) {
        names.push_back(l.name);
        networks.push_back(l.network);
      }
  } catch (const std::exception& e) {
    spdlog::warn("no region names for {}: {}", atlas, e.what());
  }
  if (static_cast<Eigen::Index>(names.size()) != rois) return {};
  // An atlas without networks has no bands: leave the order as it is.
  if (std::all_of(networks.begin(), networks.end(), [](const std::string& n) { return n.empty(); })) networks.clear();
  return {names, networks};
}

}  // namespace bg::ui
