#include "SliceViewer.h"
#include <QTransform>

#include <algorithm>
#include <cmath>
#include <map>

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include "Workbench.h"
#include "atlas/AtlasRegistry.h"
#include "atlas/NetworkColours.h"
#include "errors/Error.h"

namespace bg::ui {

// ---------------------------------------------------------------- SlicePane

SlicePane::SlicePane(SliceViewer& viewer, Plane plane, QWidget* parent) : QWidget(parent), viewer_(viewer), plane_(plane) {
  setMouseTracking(true);
  setMinimumSize(160, 160);
  static const char* names[] = {"Axial", "Coronal", "Sagittal"};
  setToolTip(tr("%1 slice: click to move the crosshair; hover for ROI and value").arg(tr(names[plane])));
  setAccessibleName(tr("%1 slice").arg(tr(names[plane])));
}

QRectF SlicePane::imageRect() const {
  const auto mm = viewer_.sliceSizeMm(plane_);
  if (mm[0] <= 0 || mm[1] <= 0) return {};
  const double scale = std::min((width() - 4) / mm[0], (height() - 4) / mm[1]);
  const QSizeF size(mm[0] * scale, mm[1] * scale);
  return {QPointF((width() - size.width()) / 2, (height() - size.height()) / 2), size};
}

namespace {
// The voxel axes a pane shows across and up.
std::array<int, 2> paneAxes(SlicePane::Plane plane) {
  switch (plane) {
    case SlicePane::Axial:
      return {0, 1};
    case SlicePane::Coronal:
      return {0, 2};
    default:
      return {1, 2};
  }
}
const char* kEnds[3][2] = {{"L", "R"}, {"P", "A"}, {"I", "S"}};  // negative and positive end of x, y, z
}  // namespace

std::array<QString, 4> SlicePane::edgeLabels() const {
  const auto [h, v] = paneAxes(plane_);
  // The end of the world axis that a pane's right (top) edge shows.
  const bool rightPositive = viewer_.runsPositive(h) != viewer_.flipsHorizontal(plane_);
  const bool topPositive = viewer_.runsPositive(v) != viewer_.flipsVertical(plane_);
  const int wh = viewer_.worldAxisOf(h), wv = viewer_.worldAxisOf(v);
  return {kEnds[wh][rightPositive ? 0 : 1], kEnds[wh][rightPositive ? 1 : 0], kEnds[wv][topPositive ? 1 : 0], kEnds[wv][topPositive ? 0 : 1]};
}

std::optional<std::array<std::int64_t, 3>> SlicePane::voxelAt(const QPoint& p) const {
  const auto* v = viewer_.volume();
  const QRectF r = imageRect();
  if (!v || !r.contains(p)) return std::nullopt;
  const auto& d = v->header.dim;
  const auto img = viewer_.sliceImage(plane_);
  auto u = static_cast<std::int64_t>((p.x() - r.left()) / r.width() * img.width());
  auto w = static_cast<std::int64_t>((r.bottom() - p.y()) / r.height() * img.height());  // image rows run upwards in space
  if (viewer_.flipsHorizontal(plane_)) u = img.width() - 1 - u;
  if (viewer_.flipsVertical(plane_)) w = img.height() - 1 - w;
  auto c = viewer_.cursor();
  switch (plane_) {
    case Axial:
      c[0] = u, c[1] = w;
      break;
    case Coronal:
      c[0] = u, c[2] = w;
      break;
    case Sagittal:
      c[1] = u, c[2] = w;
      break;
  }
  for (int a = 0; a < 3; ++a)
    if (c[static_cast<std::size_t>(a)] < 0 || c[static_cast<std::size_t>(a)] >= d[static_cast<std::size_t>(a)]) return std::nullopt;
  return c;
}

QPoint SlicePane::positionOf(const std::array<std::int64_t, 3>& c) const {
  const QRectF r = imageRect();
  const auto img = viewer_.sliceImage(plane_);
  std::int64_t u = 0, w = 0;
  switch (plane_) {
    case Axial:
      u = c[0], w = c[1];
      break;
    case Coronal:
      u = c[0], w = c[2];
      break;
    case Sagittal:
      u = c[1], w = c[2];
      break;
  }
  if (viewer_.flipsHorizontal(plane_)) u = img.width() - 1 - u;
  if (viewer_.flipsVertical(plane_)) w = img.height() - 1 - w;
  return QPoint(static_cast<int>(r.left() + (static_cast<double>(u) + 0.5) * r.width() / img.width()),
                static_cast<int>(r.bottom() - (static_cast<double>(w) + 0.5) * r.height() / img.height()));
}

void SlicePane::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::black);
  if (!viewer_.hasVolume()) return;
  const QRectF r = imageRect();
  p.drawImage(r, viewer_.sliceImage(plane_).mirrored(viewer_.flipsHorizontal(plane_), !viewer_.flipsVertical(plane_)));
  const QPoint c = positionOf(viewer_.cursor());
  p.setPen(QPen(QColor(80, 220, 120), 1));
  p.drawLine(QPointF(r.left(), c.y()), QPointF(r.right(), c.y()));
  p.drawLine(QPointF(c.x(), r.top()), QPointF(c.x(), r.bottom()));
  // Orientation: a letter at each edge, and the convention in the corner.
  const auto labels = edgeLabels();
  QFont f = font();
  f.setBold(true);
  p.setFont(f);
  p.setPen(QColor(255, 210, 60));
  const int m = 4, box = 16;
  p.drawText(QRect(m, height() / 2 - box / 2, box, box), Qt::AlignCenter, labels[0]);
  p.drawText(QRect(width() - m - box, height() / 2 - box / 2, box, box), Qt::AlignCenter, labels[1]);
  p.drawText(QRect(width() / 2 - box / 2, m, box, box), Qt::AlignCenter, labels[2]);
  p.drawText(QRect(width() / 2 - box / 2, height() - m - box, box, box), Qt::AlignCenter, labels[3]);
  if (plane_ != Sagittal) {
    f.setBold(false);
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    p.setPen(QColor(200, 200, 200));
    p.drawText(rect().adjusted(m, m, -m, -m), Qt::AlignLeft | Qt::AlignTop,
               viewer_.radiological() ? tr("Radiological (L on right)") : tr("Neurological (L on left)"));
  }
}

void SlicePane::mousePressEvent(QMouseEvent* e) {
  if (const auto v = voxelAt(e->position().toPoint())) viewer_.setCursor(*v);
  setFocus();
}

void SlicePane::mouseMoveEvent(QMouseEvent* e) {
  const auto v = voxelAt(e->position().toPoint());
  if (!v) return;
  if (e->buttons() & Qt::LeftButton) viewer_.setCursor(*v);
  QToolTip::showText(e->globalPosition().toPoint(), viewer_.describe(*v), this);
}

// ---------------------------------------------------------------- SliceViewer

SliceViewer::SliceViewer(Workbench& workbench, QWidget* parent) : QWidget(parent), workbench_(workbench) {
  setFocusPolicy(Qt::StrongFocus);
  atlas_ = new QComboBox(this);
  atlas_->addItem(tr("No overlay"), QString());
  if (workbench_.hasAtlases())
    for (const auto* m : workbench_.atlases().parcellations()) atlas_->addItem(QString::fromStdString(m->displayName), QString::fromStdString(m->id));
  atlas_->setToolTip(tr("Atlas drawn over the slices (resampled onto this scan's grid)"));
  atlas_->setAccessibleName(tr("Overlay atlas"));
  opacity_ = new QSlider(Qt::Horizontal, this);
  opacity_->setRange(0, 100);
  opacity_->setValue(45);
  opacity_->setToolTip(tr("Overlay opacity"));
  opacity_->setAccessibleName(tr("Overlay opacity"));
  time_ = new QSlider(Qt::Horizontal, this);
  time_->setRange(0, 0);
  time_->setToolTip(tr("Time point (volume) shown"));
  time_->setAccessibleName(tr("Time point"));
  play_ = new QPushButton(tr("Play"), this);
  play_->setCheckable(true);
  play_->setToolTip(tr("Play through the time points (10 per second)"));
  player_ = new QTimer(this);
  player_->setInterval(100);
  radiological_ = new QCheckBox(tr("Radiological"), this);
  radiological_->setToolTip(
      tr("Show the patient's left on the right, as if facing the patient (radiological); unticked, left is on the "
         "left (neurological). Report figures follow the same setting."));
  radiological_->setChecked(workbench_.settings().radiological());
  info_ = new QLabel(tr("Select a BOLD scan (or open one) to see its slices"), this);
  info_->setToolTip(tr("Crosshair voxel, MNI position, ROI and value"));
  info_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Overlay:"), this));
  controls->addWidget(atlas_);
  controls->addWidget(opacity_);
  controls->addWidget(new QLabel(tr("Time:"), this));
  controls->addWidget(time_, 1);
  controls->addWidget(play_);
  controls->addWidget(radiological_);
  auto* grid = new QGridLayout;
  for (int k = 0; k < 3; ++k) {
    panes_[static_cast<std::size_t>(k)] = new SlicePane(*this, static_cast<SlicePane::Plane>(k), this);
    grid->addWidget(panes_[static_cast<std::size_t>(k)], k / 2, k % 2);
  }
  cube_ = new SliceCube(*this, this);
  grid->addWidget(cube_, 1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addLayout(grid, 1);
  layout->addWidget(info_);
  QSettings settings;  // view settings persist across sessions
  atlas_->setCurrentIndex(std::max(0, atlas_->findData(settings.value(QStringLiteral("view/slice_overlay"), QString()))));
  opacity_->setValue(settings.value(QStringLiteral("view/slice_overlay_opacity"), 45).toInt());
  connect(atlas_, &QComboBox::currentIndexChanged, this, [this] {
    QSettings().setValue(QStringLiteral("view/slice_overlay"), atlas_->currentData());
    setAtlas(atlas_->currentData().toString());
  });
  connect(opacity_, &QSlider::valueChanged, this, [this](int v) {
    QSettings().setValue(QStringLiteral("view/slice_overlay_opacity"), v);
    for (auto* p : panes_) p->update();
    cube_->update();
  });
  connect(time_, &QSlider::valueChanged, this, &SliceViewer::setFrame);
  connect(radiological_, &QCheckBox::toggled, this, [this](bool on) {
    workbench_.setDisplayConvention(on ? "radiological" : "neurological");
    for (auto* p : panes_) p->update();
  });
  connect(play_, &QPushButton::toggled, this, [this](bool on) {
    if (on)
      player_->start();
    else
      player_->stop();
  });
  connect(player_, &QTimer::timeout, this, [this] { time_->setValue((time_->value() + 1) % (time_->maximum() + 1)); });
}

void SliceViewer::load(const QString& file) {
  file_ = file;
  info_->setText(tr("Reading %1…").arg(file));
  QPointer<SliceViewer> self(this);
  workbench_.jobs().submit("read " + file.toStdString(), [self, file](JobContext& job) {
    job.update("reading the volume", 0.1);
    auto volume = std::make_shared<NiftiVolume>(readNiftiVolume(file.toStdString()));
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, volume, file] {
          if (!self || self->file_ != file) return;
          self->volume_ = volume;
          const auto& d = volume->header.dim;
          self->cursor_ = {d[0] / 2, d[1] / 2, d[2] / 2};
          // Which world axis each voxel axis runs along (its largest direction cosine), and which way.
          for (int a = 0; a < 3; ++a) {
            const Eigen::Vector3d col = volume->header.voxelToWorld.block<3, 1>(0, a);
            Eigen::Index at = 0;
            col.cwiseAbs().maxCoeff(&at);
            self->worldAxis_[static_cast<std::size_t>(a)] = static_cast<int>(at);
            self->positive_[static_cast<std::size_t>(a)] = col(at) >= 0;
          }
          self->frame_ = 0;
          // Grey window: 2nd to 98th percentile of the first volume's non-zero voxels.
          std::vector<float> values;
          for (std::int64_t i = 0; i < volume->header.voxelsPerVolume(); ++i)
            if (volume->data[static_cast<std::size_t>(i)] != 0) values.push_back(volume->data[static_cast<std::size_t>(i)]);
          if (!values.empty()) {
            std::sort(values.begin(), values.end());
            self->low_ = values[values.size() * 2 / 100];
            self->high_ = std::max(self->low_ + 1e-6, static_cast<double>(values[values.size() * 98 / 100]));
          }
          const QSignalBlocker block(self->time_);
          self->time_->setRange(0, static_cast<int>(volume->header.volumes()) - 1);
          self->time_->setValue(0);
          self->mapAtlas();
          self->updateInfo();
          for (auto* p : self->panes_) p->update();
          self->cube_->update();
          Q_EMIT self->loaded();
        },
        Qt::QueuedConnection);
  });
}

void SliceViewer::setAtlas(const QString& atlasId) {
  const int index = atlas_->findData(atlasId);
  if (index >= 0 && index != atlas_->currentIndex()) {
    atlas_->setCurrentIndex(index);  // comes back here through the signal
    return;
  }
  mapAtlas();
  updateInfo();
  for (auto* p : panes_) p->update();
  cube_->update();
}

void SliceViewer::mapAtlas() {
  labels_.reset();
  labelColours_.clear();
  const auto id = atlas_->currentData().toString().toStdString();
  if (!volume_ || id.empty() || !workbench_.hasAtlases()) return;
  try {
    labels_ = std::make_shared<LabelMap>(AtlasResampler(workbench_.atlases()).map(id, ScanGrid::of(volume_->header)));
    for (std::size_t i = 0; i < labels_->rois.size(); ++i) {
      const auto& r = labels_->rois[i];
      // The network's colour (as every other view), lighter or darker by ROI so neighbours differ; an
      // atlas without networks gets a hue per ROI.
      QColor c = QColor::fromHsv(static_cast<int>((i * 47) % 360), 190, 200);
      if (!r.network.empty()) {
        const auto rgb = networkColour(r.network);
        c = QColor(rgb[0], rgb[1], rgb[2]);
      }
      labelColours_.push_back(c.lighter(85 + static_cast<int>((i * 37) % 40)).rgb());
    }
  } catch (...) {
    const Error e = currentExceptionAsError();
    spdlog::warn("{}", e.what());
    info_->setText(QString::fromStdString(e.what()));
  }
}

void SliceViewer::setCursor(const std::array<std::int64_t, 3>& v) {
  if (!volume_) return;
  for (int a = 0; a < 3; ++a)
    cursor_[static_cast<std::size_t>(a)] = std::clamp<std::int64_t>(v[static_cast<std::size_t>(a)], 0, volume_->header.dim[static_cast<std::size_t>(a)] - 1);
  updateInfo();
  for (auto* p : panes_) p->update();
  cube_->update();
  Q_EMIT cursorChanged();
}

void SliceViewer::setFrame(int t) {
  if (!volume_) return;
  frame_ = std::clamp<int>(t, 0, static_cast<int>(volume_->header.volumes()) - 1);
  if (time_->value() != frame_) {
    const QSignalBlocker block(time_);
    time_->setValue(frame_);
  }
  updateInfo();
  for (auto* p : panes_) p->update();
  cube_->update();
}

QString SliceViewer::describe(const std::array<std::int64_t, 3>& v) const {
  if (!volume_) return {};
  const double value = volume_->at(v[0], v[1], v[2], frame_);
  QString roi = tr("no ROI");
  if (labels_) {
    const auto& d = volume_->header.dim;
    const auto idx = static_cast<std::size_t>((v[2] * d[1] + v[1]) * d[0] + v[0]);
    const int r = labels_->roiOfVoxel[idx];
    if (r >= 0) {
      const auto& l = labels_->rois[static_cast<std::size_t>(r)];
      roi = QString::fromStdString(l.name) + (l.network.empty() ? QString() : QStringLiteral(" (%1)").arg(QString::fromStdString(l.network)));
    }
  }
  return tr("%1 — %2").arg(roi).arg(value, 0, 'g', 5);
}

void SliceViewer::updateInfo() {
  if (!volume_) return;
  const Eigen::Vector4d w =
      volume_->header.voxelToWorld * Eigen::Vector4d(static_cast<double>(cursor_[0]), static_cast<double>(cursor_[1]), static_cast<double>(cursor_[2]), 1);
  info_->setText(tr("%1 — voxel (%2, %3, %4), MNI (%5, %6, %7) mm, volume %8/%9: %10")
                     .arg(file_)
                     .arg(cursor_[0])
                     .arg(cursor_[1])
                     .arg(cursor_[2])
                     .arg(w(0), 0, 'f', 1)
                     .arg(w(1), 0, 'f', 1)
                     .arg(w(2), 0, 'f', 1)
                     .arg(frame_ + 1)
                     .arg(volume_->header.volumes())
                     .arg(describe(cursor_)));
}

bool SliceViewer::radiological() const { return radiological_->isChecked(); }

void SliceViewer::setRadiological(bool on) { radiological_->setChecked(on); }

bool SliceViewer::flipsHorizontal(SlicePane::Plane plane) const {
  const int axis = paneAxes(plane)[0];
  // Left-right runs + to the right in neurological display, - in radiological; other axes + to the right.
  const bool wantPositive = worldAxisOf(axis) != 0 || !radiological();
  return runsPositive(axis) != wantPositive;
}

bool SliceViewer::flipsVertical(SlicePane::Plane plane) const { return !runsPositive(paneAxes(plane)[1]); }

std::array<double, 2> SliceViewer::sliceSizeMm(SlicePane::Plane plane) const {
  if (!volume_) return {0, 0};
  const auto& d = volume_->header.dim;
  const auto& px = volume_->header.pixdim;
  switch (plane) {
    case SlicePane::Axial:
      return {d[0] * px[0], d[1] * px[1]};
    case SlicePane::Coronal:
      return {d[0] * px[0], d[2] * px[2]};
    default:
      return {d[1] * px[1], d[2] * px[2]};
  }
}

QImage SliceViewer::sliceImage(SlicePane::Plane plane) const {
  if (!volume_) return {};
  const auto& d = volume_->header.dim;
  const int w = static_cast<int>(plane == SlicePane::Sagittal ? d[1] : d[0]);
  const int h = static_cast<int>(plane == SlicePane::Axial ? d[1] : d[2]);
  QImage img(w, h, QImage::Format_RGB32);
  const double alpha = labels_ ? opacity_->value() / 100.0 : 0.0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::array<std::int64_t, 3> v = cursor_;
      switch (plane) {
        case SlicePane::Axial:
          v[0] = x, v[1] = y;
          break;
        case SlicePane::Coronal:
          v[0] = x, v[2] = y;
          break;
        case SlicePane::Sagittal:
          v[1] = x, v[2] = y;
          break;
      }
      const double value = volume_->at(v[0], v[1], v[2], frame_);
      const int grey = static_cast<int>(std::clamp((value - low_) / (high_ - low_), 0.0, 1.0) * 255.0);
      QRgb c = qRgb(grey, grey, grey);
      if (labels_) {
        const int r = labels_->roiOfVoxel[static_cast<std::size_t>((v[2] * d[1] + v[1]) * d[0] + v[0])];
        if (r >= 0) {
          const QRgb l = labelColours_[static_cast<std::size_t>(r)];
          auto mix = [&](int a, int b) { return static_cast<int>(a * (1 - alpha) + b * alpha); };
          c = qRgb(mix(grey, qRed(l)), mix(grey, qGreen(l)), mix(grey, qBlue(l)));
        }
      }
      img.setPixel(x, y, c);
    }
  return img;
}

void SliceViewer::keyPressEvent(QKeyEvent* e) {
  auto c = cursor_;
  switch (e->key()) {
    // Arrows move the crosshair the way they point on the axial pane.
    case Qt::Key_Left:
      c[0] += flipsHorizontal(SlicePane::Axial) ? 1 : -1;
      break;
    case Qt::Key_Right:
      c[0] += flipsHorizontal(SlicePane::Axial) ? -1 : 1;
      break;
    case Qt::Key_Up:
      c[1] += flipsVertical(SlicePane::Axial) ? -1 : 1;
      break;
    case Qt::Key_Down:
      c[1] += flipsVertical(SlicePane::Axial) ? 1 : -1;
      break;
    case Qt::Key_PageUp:
      ++c[2];
      break;
    case Qt::Key_PageDown:
      --c[2];
      break;
    default:
      QWidget::keyPressEvent(e);
      return;
  }
  setCursor(c);
}

SliceCube::SliceCube(SliceViewer& viewer, QWidget* parent) : QWidget(parent), viewer_(viewer) {
  setMinimumSize(160, 120);
  setToolTip(tr("The three slices in 3D, meeting at the crosshair; drag to turn the view"));
  setFocusPolicy(Qt::StrongFocus);
}

void SliceCube::setView(double azimuthDeg, double elevationDeg) {
  azimuth_ = azimuthDeg;
  elevation_ = std::clamp(elevationDeg, -89.0, 89.0);
  update();
}

void SliceCube::mousePressEvent(QMouseEvent* e) { last_ = e->pos(); }

void SliceCube::mouseMoveEvent(QMouseEvent* e) {
  if (!(e->buttons() & Qt::LeftButton)) return;
  const QPoint d = e->pos() - last_;
  last_ = e->pos();
  setView(azimuth_ + d.x() * 0.5, elevation_ + d.y() * 0.5);
}

void SliceCube::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), QColor(27, 30, 38));
  const auto* v = viewer_.volume();
  if (!v) {
    p.setPen(Qt::lightGray);
    p.drawText(rect(), Qt::AlignCenter, tr("3D"));
    return;
  }
  const auto& h = v->header;
  const double size[3] = {h.dim[0] * std::abs(h.pixdim[0]), h.dim[1] * std::abs(h.pixdim[1]), h.dim[2] * std::abs(h.pixdim[2])};
  const auto c = viewer_.cursor();
  const double at[3] = {(c[0] + 0.5) * std::abs(h.pixdim[0]), (c[1] + 0.5) * std::abs(h.pixdim[1]), (c[2] + 0.5) * std::abs(h.pixdim[2])};
  // Orthographic camera: turn about z (azimuth), then tilt (elevation); screen x right, y down.
  const double az = azimuth_ * M_PI / 180, el = elevation_ * M_PI / 180;
  auto view = [&](double x, double y, double z, double* depth) {
    // World orientation, not voxel order: an axis stored towards L, P or I is mirrored, so the cube's
    // +x is the patient's right, +y anterior and +z superior whatever the file's layout.
    if (!viewer_.runsPositive(0)) x = size[0] - x;
    if (!viewer_.runsPositive(1)) y = size[1] - y;
    if (!viewer_.runsPositive(2)) z = size[2] - z;
    x -= size[0] / 2, y -= size[1] / 2, z -= size[2] / 2;
    const double x1 = x * std::cos(az) - y * std::sin(az), y1 = x * std::sin(az) + y * std::cos(az);
    const double y2 = y1 * std::cos(el) + z * std::sin(el), z2 = -y1 * std::sin(el) + z * std::cos(el);
    if (depth) *depth = y2;  // larger is farther
    return QPointF(x1, -z2);
  };
  const double radius = 0.5 * std::sqrt(size[0] * size[0] + size[1] * size[1] + size[2] * size[2]);
  const double scale = 0.6 * std::min(width(), height()) / radius;
  const QPointF centre(width() / 2.0, height() / 2.0);
  struct Quad {
    QPolygonF screen;
    QRectF source;
    int image;
    double depth;
  };
  const QImage images[3] = {viewer_.sliceImage(SlicePane::Axial), viewer_.sliceImage(SlicePane::Coronal), viewer_.sliceImage(SlicePane::Sagittal)};
  std::vector<Quad> quads;
  // plane k holds axes (a, b) and the fixed axis f at the crosshair; image pixel = voxel index on a, b.
  const int planes[3][3] = {{0, 1, 2}, {0, 2, 1}, {1, 2, 0}};
  for (int k = 0; k < 3; ++k) {
    const int a = planes[k][0], b = planes[k][1], f = planes[k][2];
    const double sa = std::abs(h.pixdim[static_cast<std::size_t>(a)]), sb = std::abs(h.pixdim[static_cast<std::size_t>(b)]);
    const double as[3] = {0, at[a], size[a]}, bs[3] = {0, at[b], size[b]};
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) {
        Quad q;
        q.image = k;
        q.source = QRectF(QPointF(as[i] / sa, bs[j] / sb), QPointF(as[i + 1] / sa, bs[j + 1] / sb));
        double depth = 0, d = 0;
        for (const auto& [u, w] : std::array<std::pair<double, double>, 4>{{{as[i], bs[j]}, {as[i + 1], bs[j]}, {as[i + 1], bs[j + 1]}, {as[i], bs[j + 1]}}}) {
          double pos[3];
          pos[a] = u, pos[b] = w, pos[f] = at[f];
          q.screen << centre + scale * view(pos[0], pos[1], pos[2], &d);
          depth += d / 4;
        }
        q.depth = depth;
        if (q.source.width() > 0 && q.source.height() > 0) quads.push_back(q);
      }
  }
  std::sort(quads.begin(), quads.end(), [](const Quad& x, const Quad& y) { return x.depth > y.depth; });
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  for (const auto& q : quads) {
    QTransform t;
    QPolygonF src;
    src << q.source.topLeft() << q.source.topRight() << q.source.bottomRight() << q.source.bottomLeft();
    if (!QTransform::quadToQuad(src, q.screen, t)) continue;
    p.setTransform(t);
    p.drawImage(q.source, images[q.image], q.source);
    p.resetTransform();
  }
  p.setPen(QPen(QColor(255, 200, 40, 160), 1));
  for (int axis = 0; axis < 3; ++axis) {  // crosshair lines through the volume
    double from[3] = {at[0], at[1], at[2]}, to[3] = {at[0], at[1], at[2]};
    from[axis] = 0, to[axis] = size[axis];
    p.drawLine(centre + scale * view(from[0], from[1], from[2], nullptr), centre + scale * view(to[0], to[1], to[2], nullptr));
  }
}

}  // namespace bg::ui
