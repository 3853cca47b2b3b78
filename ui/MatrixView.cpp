#include "MatrixView.h"

#include "atlas/NetworkColours.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

namespace bg::ui {
namespace {
constexpr int kBand = 8, kMargin = 28, kBar = 16, kBarGap = 14, kBarText = 52;

QColor colourOf(const std::string& network) {
  const auto c = networkColour(network);
  return QColor(c[0], c[1], c[2]);
}
}  // namespace

MatrixView::MatrixView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(240, 200);
  // Not a widget tooltip: that would hide the hover values; shown only off the matrix (event()).
  help_ = tr("Connectivity matrix: hover for ROI names and value; wheel or +/- to zoom, drag or arrows to pan, Home to reset");
  setAccessibleName(tr("Connectivity matrix"));
  message_ = tr("Select a scan with connectomes, or a corpus group, to see its matrix");
}

QRgb MatrixView::colourFor(double v, double limit) {
  if (!std::isfinite(v)) return qRgb(128, 128, 128);
  const double t = std::clamp(limit > 0 ? v / limit : 0.0, -1.0, 1.0);
  // White at 0 towards red (178, 24, 43) or blue (33, 102, 172), as ColorBrewer's RdBu ends.
  const double a = std::abs(t);
  const int r0 = t >= 0 ? 178 : 33, g0 = t >= 0 ? 24 : 102, b0 = t >= 0 ? 43 : 172;
  auto mix = [&](int end) { return static_cast<int>(std::lround(255.0 + (end - 255.0) * a)); };
  return qRgb(mix(r0), mix(g0), mix(b0));
}

void MatrixView::setMatrix(const Eigen::MatrixXd& m, std::vector<std::string> names, std::vector<std::string> networks, const QString& title, double limit) {
  matrix_ = m;
  p_.resize(0, 0);
  q_.resize(0, 0);
  names_ = std::move(names);
  networks_ = std::move(networks);
  title_ = title;
  message_.clear();
  const auto n = static_cast<int>(m.rows());
  if (limit <= 0) {
    limit = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (i != j && std::isfinite(m(i, j))) limit = std::max(limit, std::abs(m(i, j)));
    if (limit <= 0) limit = 1;
  }
  limit_ = limit;
  order_.resize(static_cast<std::size_t>(n));
  std::iota(order_.begin(), order_.end(), 0);
  if (static_cast<int>(networks_.size()) == n)  // group ROIs of a network together, keeping their order within it
    std::stable_sort(order_.begin(), order_.end(),
                     [&](int a, int b) { return networks_[static_cast<std::size_t>(a)] < networks_[static_cast<std::size_t>(b)]; });
  zoom_ = 1.0;
  offset_ = {};
  rebuildImage();
  update();
}

void MatrixView::setSignificance(const Eigen::MatrixXd& p, const Eigen::MatrixXd& q, double alpha) {
  p_ = p;
  q_ = q;
  alpha_ = alpha;
  rebuildImage();
  update();
}

std::vector<std::string> MatrixView::rowNetworks() const {
  std::vector<std::string> out;
  if (networks_.size() != order_.size()) return out;
  for (int i : order_) out.push_back(networks_[static_cast<std::size_t>(i)]);
  return out;
}

QString MatrixView::describeAt(const QPoint& pos) const {
  const auto c = cellAt(pos);
  if (!c) return {};
  auto name = [&](int i) {
    QString s = i < static_cast<int>(names_.size()) ? QString::fromStdString(names_[static_cast<std::size_t>(i)]) : QString::number(i + 1);
    if (i < static_cast<int>(networks_.size()) && !networks_[static_cast<std::size_t>(i)].empty())
      s += QStringLiteral(" (%1)").arg(QString::fromStdString(networks_[static_cast<std::size_t>(i)]));
    return s;
  };
  QString text = tr("%1 × %2: %3").arg(name(c->row), name(c->column)).arg(c->value, 0, 'f', 3);
  if (q_.rows() == matrix_.rows() && c->row != c->column)
    text += tr(", p = %1, FDR q = %2%3")
                .arg(p_(c->row, c->column), 0, 'g', 3)
                .arg(q_(c->row, c->column), 0, 'g', 3)
                .arg(q_(c->row, c->column) < alpha_ ? tr(" (significant)") : QString());
  return text;
}

bool MatrixView::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    const QString text = describeAt(help->pos());
    QToolTip::showText(help->globalPos(), text.isEmpty() ? help_ : text, this);
    return true;
  }
  return QWidget::event(e);
}

void MatrixView::clear(const QString& message) {
  matrix_.resize(0, 0);
  image_ = {};
  message_ = message;
  update();
}

void MatrixView::rebuildImage() {
  const auto n = static_cast<int>(matrix_.rows());
  image_ = QImage(n, n, QImage::Format_RGB32);
  const bool faded = q_.rows() == n;
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const int i = order_[static_cast<std::size_t>(r)], j = order_[static_cast<std::size_t>(c)];
      QRgb colour = colourFor(matrix_(i, j), limit_);
      if (faded && i != j && q_(i, j) >= alpha_)  // not significant: a quarter of its colour
        colour = qRgb(255 - (255 - qRed(colour)) / 4, 255 - (255 - qGreen(colour)) / 4, 255 - (255 - qBlue(colour)) / 4);
      image_.setPixel(c, r, colour);
    }
}

QRect MatrixView::plotArea() const {
  const int side = std::max(10, std::min(width() - kMargin - kBand - kBarGap - kBar - kBarText, height() - 2 * kMargin - kBand));
  return {kMargin + kBand, kMargin + kBand, side, side};
}

QRectF MatrixView::matrixRect() const {
  const QRectF area = plotArea();
  return {area.topLeft() + offset_, area.size() * zoom_};
}

std::optional<MatrixView::Cell> MatrixView::cellAt(const QPoint& p) const {
  const auto n = matrix_.rows();
  if (n == 0 || !plotArea().contains(p)) return std::nullopt;
  const QRectF r = matrixRect();
  const int col = static_cast<int>(std::floor((p.x() - r.left()) / r.width() * static_cast<double>(n)));
  const int row = static_cast<int>(std::floor((p.y() - r.top()) / r.height() * static_cast<double>(n)));
  if (row < 0 || col < 0 || row >= n || col >= n) return std::nullopt;
  const int i = order_[static_cast<std::size_t>(row)], j = order_[static_cast<std::size_t>(col)];
  return Cell{i, j, matrix_(i, j)};
}

QPoint MatrixView::cellCentre(int row, int column) const {
  const auto n = static_cast<double>(matrix_.rows());
  const auto pos = [&](int idx) { return static_cast<double>(std::find(order_.begin(), order_.end(), idx) - order_.begin()); };
  const QRectF r = matrixRect();
  return QPoint(static_cast<int>(r.left() + (pos(column) + 0.5) * r.width() / n), static_cast<int>(r.top() + (pos(row) + 0.5) * r.height() / n));
}

void MatrixView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  if (image_.isNull()) {
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, message_);
    return;
  }
  const QRect area = plotArea();
  p.drawText(QRect(0, 4, width(), kMargin - 6), Qt::AlignHCenter | Qt::AlignVCenter, title_);
  p.save();
  p.setClipRect(area);
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  p.drawImage(matrixRect(), image_);
  p.restore();
  // Network bands along the top and left edges.
  const auto n = static_cast<int>(order_.size());
  if (static_cast<int>(networks_.size()) == n && n > 0) {
    const QRectF r = matrixRect();
    p.save();
    p.setClipRect(QRect(area.left() - kBand, area.top() - kBand, area.width() + kBand, area.height() + kBand));
    for (int s = 0; s < n; ++s) {
      const QColor colour = colourOf(networks_[static_cast<std::size_t>(order_[static_cast<std::size_t>(s)])]);
      const double a = r.left() + s * r.width() / n, b = r.top() + s * r.height() / n;
      p.fillRect(QRectF(a, area.top() - kBand, r.width() / n + 0.5, kBand - 1), colour);
      p.fillRect(QRectF(area.left() - kBand, b, kBand - 1, r.height() / n + 0.5), colour);
    }
    p.restore();
  }
  p.setPen(palette().windowText().color());
  p.drawRect(area.adjusted(0, 0, -1, -1));
  // Network legend under the matrix, in band order.
  if (static_cast<int>(networks_.size()) == n && n > 0) {
    const std::set<std::string> names(networks_.begin(), networks_.end());  // sorted, as the bands
    int x = area.left();
    const int y = area.bottom() + 6;
    for (const auto& net : names) {
      const QString label = net.empty() ? tr("none") : QString::fromStdString(net);
      const int w = p.fontMetrics().horizontalAdvance(label);
      if (x + 14 + w > width()) break;
      p.fillRect(QRect(x, y + 3, 10, 10), colourOf(net));
      p.drawText(QRect(x + 13, y, w + 2, 16), Qt::AlignLeft | Qt::AlignVCenter, label);
      x += 13 + w + 10;
    }
  }
  // Colour bar.
  const QRect bar(area.right() + kBarGap, area.top(), kBar, area.height());
  for (int y = 0; y < bar.height(); ++y) {
    const double v = limit_ * (1.0 - 2.0 * y / std::max(1, bar.height() - 1));
    p.setPen(QColor::fromRgb(colourFor(v, limit_)));
    p.drawLine(bar.left(), bar.top() + y, bar.right(), bar.top() + y);
  }
  p.setPen(palette().windowText().color());
  p.drawRect(bar.adjusted(0, 0, -1, -1));
  const auto label = [&](double v, int y) {
    p.drawText(QRect(bar.right() + 4, y - 8, kBarText, 16), Qt::AlignLeft | Qt::AlignVCenter, QString::number(v, 'g', 3));
  };
  label(limit_, bar.top());
  label(0.0, bar.center().y());
  label(-limit_, bar.bottom());
}

void MatrixView::mouseMoveEvent(QMouseEvent* e) {
  const QPoint pos = e->position().toPoint();
  if (e->buttons() & Qt::LeftButton) {
    offset_ = dragOffset_ + QPointF(pos - dragStart_);
    update();
    return;
  }
  if (const auto c = cellAt(pos)) {
    const QString text = describeAt(pos);
    QToolTip::showText(e->globalPosition().toPoint(), text, this);
    Q_EMIT cellHovered(c->row, c->column, c->value);
    Q_EMIT hovered(text);
  }
}

void MatrixView::mousePressEvent(QMouseEvent* e) {
  dragStart_ = e->position().toPoint();
  dragOffset_ = offset_;
}

void MatrixView::mouseDoubleClickEvent(QMouseEvent*) {
  zoom_ = 1.0;
  offset_ = {};
  update();
}

void MatrixView::zoomAt(QPointF at, double factor) {
  const double z = std::clamp(zoom_ * factor, 1.0, 64.0);
  const QPointF origin = plotArea().topLeft();
  // Keep the point under the cursor fixed.
  offset_ = (at - origin) - (at - origin - offset_) * (z / zoom_);
  zoom_ = z;
  if (zoom_ == 1.0) offset_ = {};
  update();
}

void MatrixView::wheelEvent(QWheelEvent* e) { zoomAt(e->position(), e->angleDelta().y() > 0 ? 1.25 : 0.8); }

void MatrixView::keyPressEvent(QKeyEvent* e) {
  const QPointF centre = plotArea().center();
  switch (e->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
      zoomAt(centre, 1.25);
      break;
    case Qt::Key_Minus:
      zoomAt(centre, 0.8);
      break;
    case Qt::Key_Home:
      mouseDoubleClickEvent(nullptr);
      break;
    case Qt::Key_Left:
      offset_ += QPointF(20, 0);
      update();
      break;
    case Qt::Key_Right:
      offset_ -= QPointF(20, 0);
      update();
      break;
    case Qt::Key_Up:
      offset_ += QPointF(0, 20);
      update();
      break;
    case Qt::Key_Down:
      offset_ -= QPointF(0, 20);
      update();
      break;
    default:
      QWidget::keyPressEvent(e);
  }
}

void MatrixView::resizeEvent(QResizeEvent*) { update(); }

}  // namespace bg::ui
