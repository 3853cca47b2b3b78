#include "ConnectomePanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include "ConnectomeActors.h"
#include "VtkView.h"
#include "Workbench.h"
#include "errors/Error.h"

namespace bg::ui {

ConnectomePanel::ConnectomePanel(Workbench& workbench, viz::VtkView* view, QWidget* parent)
    : QWidget(parent), workbench_(workbench), view_(view), actors_(std::make_unique<viz::ConnectomeActors>(view->renderer())) {
  edgeCount_ = new QSpinBox(this);
  edgeCount_->setRange(1, 20000);
  edgeCount_->setSingleStep(50);
  edgeCount_->setValue(viz::ConnectomeStyle{}.topCount);
  edgeCount_->setToolTip(tr("Edges shown: the strongest by |weight| (red positive, blue negative)"));
  edgeCount_->setAccessibleName(tr("Strongest edges shown"));
  threshold_ = new QDoubleSpinBox(this);
  threshold_->setRange(0.0, 1.0);
  threshold_->setSingleStep(0.05);
  threshold_->setDecimals(2);
  threshold_->setSpecialValueText(tr("off"));
  threshold_->setToolTip(tr("Instead of the top percentage, show every edge with |weight| above this value (off: 0)"));
  threshold_->setAccessibleName(tr("Edge weight threshold"));
  tubes_ = new QCheckBox(tr("Tubes"), this);
  tubes_->setToolTip(tr("Draw edges as shaded tubes instead of lines (slower on software rendering)"));
  nodeSize_ = new QComboBox(this);
  nodeSize_->addItem(tr("Degree"), QStringLiteral("degree"));
  nodeSize_->addItem(tr("Strength"), QStringLiteral("strength"));
  nodeSize_->addItem(tr("Uniform"), QStringLiteral("uniform"));
  nodeSize_->addItem(tr("Saliency (prediction)"), QStringLiteral("score"));
  nodeSize_->addItem(tr("Attention (prediction)"), QStringLiteral("attention"));
  nodeSize_->setToolTip(tr("Node size: degree or strength among the shown edges, or uniform; colour is the atlas network"));
  nodeSize_->setAccessibleName(tr("Node size"));
  info_ = new QLabel(tr("Select a scan to show its connectome; click a node to name it"), this);
  info_->setToolTip(tr("The connectome shown and the node picked"));
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Strongest edges:"), this));
  controls->addWidget(edgeCount_);
  controls->addWidget(new QLabel(tr("or |w| >"), this));
  controls->addWidget(threshold_);
  controls->addWidget(tubes_);
  controls->addWidget(new QLabel(tr("Node size:"), this));
  controls->addWidget(nodeSize_);
  controls->addWidget(info_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(controls);
  layout->addWidget(view_, 1);
  // View settings persist across sessions.
  QSettings settings;
  edgeCount_->setValue(settings.value(QStringLiteral("view/top_edges"), viz::ConnectomeStyle{}.topCount).toInt());
  nodeSize_->setCurrentIndex(std::max(0, nodeSize_->findData(settings.value(QStringLiteral("view/node_size"), QStringLiteral("degree")))));
  connect(edgeCount_, &QSpinBox::valueChanged, this, [this](int v) {
    QSettings().setValue(QStringLiteral("view/top_edges"), v);
    restyle();
  });
  connect(nodeSize_, &QComboBox::currentIndexChanged, this, [this] {
    const auto size = nodeSize_->currentData().toString();
    if (size != QStringLiteral("score") && size != QStringLiteral("attention")) QSettings().setValue(QStringLiteral("view/node_size"), size);
    restyle();
  });
  connect(threshold_, &QDoubleSpinBox::valueChanged, this, &ConnectomePanel::restyle);
  connect(tubes_, &QCheckBox::toggled, this, &ConnectomePanel::restyle);
  connect(view_, &viz::VtkView::clicked, this, [this](double x, double y) { pickAt(x, y); });
}

ConnectomePanel::~ConnectomePanel() = default;

void ConnectomePanel::showConnectome(const Eigen::MatrixXd& fc, const std::string& atlas, const QString& title) {
  try {
    auto it = placements_.find(atlas);
    if (it == placements_.end()) {
      const AtlasRegistry* registry = workbench_.hasAtlases() ? &workbench_.atlases() : nullptr;
      it = placements_.emplace(atlas, roiPlacement(registry, atlas, static_cast<int>(fc.rows()))).first;
    }
    if (static_cast<Eigen::Index>(it->second.positions.size()) != fc.rows())
      throw Error(ErrorCode::Data, "the matrix has " + std::to_string(fc.rows()) + " ROIs, the atlas " + std::to_string(it->second.positions.size()));
    placement_ = &it->second;
    fc_ = fc;
    setWindowTitle(title);
    restyle();
    info_->setText(tr("%1: %2 nodes, %3 edges").arg(title).arg(actors_->shownNodes()).arg(actors_->shownEdges()));
  } catch (...) {
    const Error e = currentExceptionAsError();
    spdlog::warn("{}", e.what());
    actors_->clear();
    placement_ = nullptr;
    info_->setText(tr("No 3D connectome: %1").arg(QString::fromStdString(e.what())));
    view_->requestRender();
  }
}

void ConnectomePanel::restyle() {
  if (!placement_) return;
  viz::ConnectomeStyle style;
  style.topCount = edgeCount_->value();
  style.threshold = threshold_->value();
  style.tubes = tubes_->isChecked();
  style.nodeSize = nodeSize_->currentData().toString().toStdString();
  const bool byAttention = style.nodeSize == "attention";
  if (byAttention) style.nodeSize = "score";
  Eigen::MatrixXd w = fc_;
  w.diagonal().setZero();
  actors_->set(w, placement_->positions, placement_->networks, style, byAttention ? attention_ : scores_);
  picked_.clear();
  view_->requestRender();
}

int ConnectomePanel::pickAt(double x, double y) {
  if (!placement_) return -1;
  const int node = actors_->pickNode(x, y);
  actors_->highlight(node);
  if (node >= 0) {
    const auto& net = placement_->networks[static_cast<std::size_t>(node)];
    picked_ = QString::fromStdString(placement_->names[static_cast<std::size_t>(node)]);
    info_->setText(net.empty() ? picked_ : tr("%1 (%2)").arg(picked_, QString::fromStdString(net)));
    Q_EMIT nodePicked(node, picked_);
  } else {
    picked_.clear();
  }
  view_->requestRender();
  return node;
}

QString ConnectomePanel::pickedName() const { return picked_; }

QImage ConnectomePanel::renderImage(const QSize& size) {
  // The view renders into a framebuffer of its own size: resize it for one frame, then put it back.
  const QSize before = view_->size();
  view_->resize(size);
  QImage image = view_->grabFramebuffer().convertToFormat(QImage::Format_RGB32);
  view_->resize(before);
  view_->requestRender();
  return image;
}

void ConnectomePanel::setNodeAttention(std::vector<double> attention) { attention_ = std::move(attention); }

void ConnectomePanel::setNodeScores(std::vector<double> scores) {
  scores_ = std::move(scores);
  const int index = nodeSize_->findData(QStringLiteral("score"));
  if (!scores_.empty() && nodeSize_->currentIndex() != index)
    nodeSize_->setCurrentIndex(index);  // restyles
  else
    restyle();
}

}  // namespace bg::ui
