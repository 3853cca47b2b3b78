#include "report/ReportFigures.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <QFont>
#include <QPainter>
#include <QPainterPath>

#include "io/NiftiImage.h"

namespace bg::report {
using nlohmann::json;

QColor networkColour(const QString& n) {
  const std::array<std::pair<const char*, QColor>, 8> yeo = {{{"Vis", QColor(120, 18, 134)},
                                                              {"SomMot", QColor(70, 130, 180)},
                                                              {"DorsAttn", QColor(0, 118, 14)},
                                                              {"SalVentAttn", QColor(196, 58, 250)},
                                                              {"Limbic", QColor(160, 180, 90)},
                                                              {"Cont", QColor(230, 148, 34)},
                                                              {"Default", QColor(205, 62, 78)},
                                                              {"Subcortical", QColor(110, 110, 110)}}};
  for (const auto& [name, colour] : yeo)
    if (n.startsWith(QLatin1String(name), Qt::CaseInsensitive)) return colour;
  return QColor::fromHsv(static_cast<int>(qHash(n) % 360), 150, 180);
}

namespace {

int pointsToPixels(double pt, double dpi) { return std::max(1, static_cast<int>(std::lround(pt * dpi / 72.0))); }

// A projection of the brain mask onto one plane, 1 mm per pixel, with its extent in MNI mm.
struct Projection {
  QImage mask;  // Format_Grayscale8, 255 inside
  double u0 = 0, v0 = 0;  // MNI mm of pixel (0, 0)'s centre along the image's u (right) and v (up)
};

struct Extent {
  double lo[3] = {-90, -126, -72}, hi[3] = {90, 91, 108};  // MNI152 bounding box, mm
};

// axes: which world axes run along u and v.
std::array<Projection, 3> projectMask(const std::optional<std::filesystem::path>& file, Extent& extent) {
  std::array<Projection, 3> out;
  const int axes[3][2] = {{1, 2}, {0, 2}, {0, 1}};  // sagittal (y, z), coronal (x, z), axial (x, y)
  if (!file) return out;
  NiftiVolume v;
  try {
    v = readNiftiVolume(*file);
  } catch (const std::exception&) {
    return out;
  }
  const auto& h = v.header;
  std::vector<std::array<double, 3>> points;
  for (std::int64_t k = 0; k < h.dim[2]; ++k)
    for (std::int64_t j = 0; j < h.dim[1]; ++j)
      for (std::int64_t i = 0; i < h.dim[0]; ++i)
        if (v.at(i, j, k) > 0.5f) {
          const Eigen::Vector4d w = h.voxelToWorld * Eigen::Vector4d(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k), 1.0);
          points.push_back({w(0), w(1), w(2)});
        }
  if (points.empty()) return out;
  for (int a = 0; a < 3; ++a) {
    extent.lo[a] = 1e9;
    extent.hi[a] = -1e9;
  }
  for (const auto& p : points)
    for (int a = 0; a < 3; ++a) {
      extent.lo[a] = std::min(extent.lo[a], p[static_cast<std::size_t>(a)] - 2);
      extent.hi[a] = std::max(extent.hi[a], p[static_cast<std::size_t>(a)] + 2);
    }
  for (int view = 0; view < 3; ++view) {
    const int ua = axes[view][0], va = axes[view][1];
    const int w = static_cast<int>(std::ceil(extent.hi[ua] - extent.lo[ua])) + 1, hgt = static_cast<int>(std::ceil(extent.hi[va] - extent.lo[va])) + 1;
    QImage img(w, hgt, QImage::Format_Grayscale8);
    img.fill(0);
    const double step = std::max(1.0, std::min({std::abs(h.pixdim[0]), std::abs(h.pixdim[1]), std::abs(h.pixdim[2])}));
    const int r = static_cast<int>(std::ceil(step / 2));
    for (const auto& p : points) {
      const int x = static_cast<int>(std::lround(p[static_cast<std::size_t>(ua)] - extent.lo[ua]));
      const int y = hgt - 1 - static_cast<int>(std::lround(p[static_cast<std::size_t>(va)] - extent.lo[va]));
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx)
          if (x + dx >= 0 && x + dx < w && y + dy >= 0 && y + dy < hgt) img.scanLine(y + dy)[x + dx] = 255;
    }
    out[static_cast<std::size_t>(view)] = {img, extent.lo[ua], extent.lo[va]};
  }
  return out;
}

// The silhouette as a light fill with a darker outline.
QImage silhouette(const QImage& mask) {
  QImage img(mask.size(), QImage::Format_ARGB32);
  img.fill(Qt::transparent);
  for (int y = 0; y < mask.height(); ++y)
    for (int x = 0; x < mask.width(); ++x) {
      if (!mask.constScanLine(y)[x]) continue;
      bool edge = false;
      for (int d = 0; d < 4 && !edge; ++d) {
        const int nx = x + (d == 0) - (d == 1), ny = y + (d == 2) - (d == 3);
        edge = nx < 0 || ny < 0 || nx >= mask.width() || ny >= mask.height() || !mask.constScanLine(ny)[nx];
      }
      img.setPixel(x, y, edge ? qRgba(90, 90, 90, 255) : qRgba(232, 232, 232, 255));
    }
  return img;
}

}  // namespace

QImage renderGlassBrain(const json& explanation, const std::optional<std::filesystem::path>& brainMask, int widthPx, int heightPx, double dpi) {
  QImage image(widthPx, heightPx, QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter p(&image);
  p.setRenderHint(QPainter::Antialiasing);
  Extent extent;
  const auto projections = projectMask(brainMask, extent);
  const int axes[3][2] = {{1, 2}, {0, 2}, {0, 1}};
  const char* titles[3] = {"Sagittal", "Coronal", "Axial"};
  const char* uLabels[3][2] = {{"P", "A"}, {"L", "R"}, {"L", "R"}};
  QFont font("DejaVu Sans");
  font.setPixelSize(pointsToPixels(7, dpi));
  p.setFont(font);
  const int titleH = pointsToPixels(11, dpi), gap = pointsToPixels(6, dpi);
  const double panelW = (widthPx - 2.0 * gap) / 3.0, panelH = heightPx - titleH;

  // Regions: every ROI as a small dot, the top ones as discs sized by saliency, numbered by rank.
  const auto& top = explanation.contains("top_rois") ? explanation["top_rois"] : json::array();
  double maxSaliency = 0;
  for (const auto& t : top) maxSaliency = std::max(maxSaliency, t.value("saliency", 0.0));

  for (int view = 0; view < 3; ++view) {
    const int ua = axes[view][0], va = axes[view][1];
    const double spanU = extent.hi[ua] - extent.lo[ua], spanV = extent.hi[va] - extent.lo[va];
    const double scale = std::min(panelW / spanU, panelH / spanV);
    const double x0 = view * (panelW + gap) + (panelW - spanU * scale) / 2, y0 = titleH + (panelH - spanV * scale) / 2;
    auto toPanel = [&](const json& pos) {
      const double u = pos[static_cast<std::size_t>(ua)].get<double>(), v = pos[static_cast<std::size_t>(va)].get<double>();
      return QPointF(x0 + (u - extent.lo[ua]) * scale, y0 + (extent.hi[va] - v) * scale);
    };
    p.setPen(Qt::black);
    p.drawText(QRectF(view * (panelW + gap), 0, panelW, titleH), Qt::AlignHCenter | Qt::AlignTop, titles[view]);
    const auto& proj = projections[static_cast<std::size_t>(view)];
    if (!proj.mask.isNull())
      p.drawImage(QRectF(x0, y0, spanU * scale, spanV * scale), silhouette(proj.mask).scaled(static_cast<int>(spanU * scale), static_cast<int>(spanV * scale),
                                                                                              Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
    else
      p.drawRect(QRectF(x0, y0, spanU * scale, spanV * scale));
    p.setPen(QColor(60, 60, 60));
    p.drawText(QRectF(x0, y0 + spanV * scale - titleH, titleH, titleH), Qt::AlignLeft | Qt::AlignBottom, uLabels[view][0]);
    p.drawText(QRectF(x0 + spanU * scale - titleH, y0 + spanV * scale - titleH, titleH, titleH), Qt::AlignRight | Qt::AlignBottom, uLabels[view][1]);
    if (explanation.contains("roi_positions_mni")) {
      p.setPen(Qt::NoPen);
      p.setBrush(QColor(150, 150, 150));
      const double r = pointsToPixels(0.8, dpi);
      for (const auto& pos : explanation["roi_positions_mni"])
        if (pos.is_array()) p.drawEllipse(toPanel(pos), r, r);
    }
    // Largest first, so small discs stay visible on top.
    std::vector<std::size_t> order(top.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return top[a].value("saliency", 0.0) > top[b].value("saliency", 0.0); });
    for (auto i : order) {
      const auto& t = top[i];
      if (!t.contains("position_mni")) continue;
      const double s = maxSaliency > 0 ? std::sqrt(t.value("saliency", 0.0) / maxSaliency) : 0.5;
      const double r = pointsToPixels(2.0 + 5.0 * s, dpi);
      const QPointF c = toPanel(t["position_mni"]);
      QColor colour = networkColour(QString::fromStdString(t.value("network", std::string())));
      colour.setAlpha(210);
      p.setPen(QPen(Qt::black, std::max(1, pointsToPixels(0.4, dpi))));
      p.setBrush(colour);
      p.drawEllipse(c, r, r);
      p.setPen(Qt::black);
      p.drawText(QRectF(c.x() + r, c.y() - r - titleH / 2.0, titleH * 2, titleH), Qt::AlignLeft | Qt::AlignVCenter, QString::number(i + 1));
    }
  }
  return image;
}

QImage renderNetworkBars(const json& networks, int widthPx, int heightPx, double dpi) {
  QImage image(widthPx, heightPx, QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter p(&image);
  p.setRenderHint(QPainter::Antialiasing);
  std::vector<std::pair<std::string, double>> rows;
  double total = 0;
  for (const auto& [name, v] : networks.items()) {
    const double s = v.is_object() ? v.value("saliency", 0.0) : v.is_number() ? v.get<double>() : 0.0;
    rows.emplace_back(name, s);
    total += s;
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
  QFont font("DejaVu Sans");
  font.setPixelSize(pointsToPixels(7.5, dpi));
  p.setFont(font);
  if (rows.empty() || total <= 0) {
    p.drawText(image.rect(), Qt::AlignCenter, "No per-network explanation");
    return image;
  }
  const int labelW = widthPx / 4, valueW = widthPx / 10;
  const double rowH = static_cast<double>(heightPx) / static_cast<double>(rows.size());
  const double barMax = widthPx - labelW - valueW - pointsToPixels(4, dpi);
  const double top = rows.front().second / total;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double share = rows[i].second / total, y = static_cast<double>(i) * rowH;
    p.setPen(Qt::black);
    p.drawText(QRectF(0, y, labelW - pointsToPixels(3, dpi), rowH), Qt::AlignRight | Qt::AlignVCenter, QString::fromStdString(rows[i].first));
    p.fillRect(QRectF(labelW, y + rowH * 0.15, barMax * share / top, rowH * 0.7), networkColour(QString::fromStdString(rows[i].first)));
    p.drawText(QRectF(labelW + barMax * share / top + pointsToPixels(2, dpi), y, valueW, rowH), Qt::AlignLeft | Qt::AlignVCenter,
               QString::number(100.0 * share, 'f', 1) + " %");
  }
  return image;
}

}  // namespace bg::report
