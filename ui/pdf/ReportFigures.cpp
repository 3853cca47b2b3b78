#include "pdf/ReportFigures.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <mutex>
#include <vector>

#include <QFont>
#include <QFontMetricsF>
#include <QLineF>
#include <QPolygonF>
#include <QPainter>
#include <QPainterPath>

#include "atlas/NetworkColours.h"
#include "io/NiftiImage.h"

namespace bg::report {
using nlohmann::json;

QColor networkColour(const QString& n) {
  const auto c = bg::networkColour(n.toStdString());
  return QColor(c[0], c[1], c[2]);
}

namespace {

int pointsToPixels(double pt, double dpi) { return std::max(1, static_cast<int>(std::lround(pt * dpi / 72.0))); }

// A projection of the brain mask onto one plane, 1 mm per pixel, with its extent in MNI mm.
struct Projection {
  QImage mask;            // Format_Grayscale8, 255 inside
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

// The outline of a projection as closed polygons in its pixel coordinates (x right, y down): marching
// squares at half height over the mask blurred twice by a 3x3 box, so the outline is a smooth vector
// path at any print size (no pixel staircase).
std::vector<QPolygonF> contours(const QImage& mask) {
  const int w = mask.width() + 2, h = mask.height() + 2;  // a zero border closes every contour
  std::vector<float> f(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), 0.0f), g(f.size());
  auto at = [w](std::vector<float>& v, int x, int y) -> float& {
    return v[static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)];
  };
  for (int y = 0; y < mask.height(); ++y)
    for (int x = 0; x < mask.width(); ++x) at(f, x + 1, y + 1) = mask.constScanLine(y)[x] ? 1.0f : 0.0f;
  for (int pass = 0; pass < 2; ++pass) {
    for (int y = 1; y + 1 < h; ++y)
      for (int x = 1; x + 1 < w; ++x) {
        float sum = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) sum += at(f, x + dx, y + dy);
        at(g, x, y) = sum / 9.0f;
      }
    std::swap(f, g);
  }
  // Edge keys: 2 * (y * w + x) for the edge from (x, y) to (x + 1, y), + 1 for (x, y) to (x, y + 1).
  std::map<long, QPointF> points;
  std::map<long, std::vector<long>> links;
  auto crossing = [&](int x0, int y0, int x1, int y1) {
    const float a = at(f, x0, y0), b = at(f, x1, y1);
    const double t = (0.5 - a) / (b - a);
    const long key = 2L * (static_cast<long>(std::min(y0, y1)) * w + std::min(x0, x1)) + (y0 != y1 ? 1 : 0);
    points[key] = QPointF(x0 + t * (x1 - x0) - 1.0, y0 + t * (y1 - y0) - 1.0);  // back to mask pixels
    return key;
  };
  for (int y = 0; y + 1 < h; ++y)
    for (int x = 0; x + 1 < w; ++x) {
      const bool c0 = at(f, x, y) >= 0.5f, c1 = at(f, x + 1, y) >= 0.5f, c2 = at(f, x + 1, y + 1) >= 0.5f, c3 = at(f, x, y + 1) >= 0.5f;
      std::vector<long> e;  // the crossed edges in order top, right, bottom, left
      if (c0 != c1) e.push_back(crossing(x, y, x + 1, y));
      if (c1 != c2) e.push_back(crossing(x + 1, y, x + 1, y + 1));
      if (c3 != c2) e.push_back(crossing(x, y + 1, x + 1, y + 1));
      if (c0 != c3) e.push_back(crossing(x, y, x, y + 1));
      auto link = [&](long p, long q) {
        links[p].push_back(q);
        links[q].push_back(p);
      };
      if (e.size() == 2)
        link(e[0], e[1]);
      else if (e.size() == 4) {  // a saddle: the centre's value decides which corners join
        const bool centre = (at(f, x, y) + at(f, x + 1, y) + at(f, x + 1, y + 1) + at(f, x, y + 1)) / 4.0f >= 0.5f;
        if (centre == c0)
          link(e[0], e[1]), link(e[2], e[3]);
        else
          link(e[0], e[3]), link(e[1], e[2]);
      }
    }
  std::vector<QPolygonF> out;
  std::map<long, bool> used;
  for (const auto& [start, _] : links) {
    if (used[start]) continue;
    QPolygonF poly;
    long prev = -1, cur = start;
    while (!used[cur]) {
      used[cur] = true;
      poly << points[cur];
      long next = -1;
      for (long n : links[cur])
        if (n != prev && !used[n]) {
          next = n;
          break;
        }
      if (next < 0) break;
      prev = cur;
      cur = next;
    }
    if (poly.size() > 2) out.push_back(poly);
  }
  return out;
}

// Projections and their outlines of one mask file, read once per process.
struct MaskOutlines {
  Extent extent;
  std::array<Projection, 3> projections;
  std::array<std::vector<QPolygonF>, 3> outlines;
};

const MaskOutlines& outlinesOf(const std::optional<std::filesystem::path>& file) {
  static std::mutex mutex;
  static std::map<std::string, MaskOutlines> cache;
  std::lock_guard lock(mutex);
  const std::string key = file ? file->string() : std::string();
  auto it = cache.find(key);
  if (it == cache.end()) {
    MaskOutlines m;
    m.projections = projectMask(file, m.extent);
    for (int v = 0; v < 3; ++v)
      if (!m.projections[static_cast<std::size_t>(v)].mask.isNull())
        m.outlines[static_cast<std::size_t>(v)] = contours(m.projections[static_cast<std::size_t>(v)].mask);
    it = cache.emplace(key, std::move(m)).first;
  }
  return it->second;
}

}  // namespace

bool radiologicalFigures(const json& record) { return record.value("figures", json::object()).value("convention", std::string()) == "radiological"; }

void paintGlassBrain(QPainter& p, const QRectF& target, const json& explanation, const std::optional<std::filesystem::path>& brainMask, double dpi,
                     bool radiological, GlassBrainLayout* layout) {
  p.save();
  p.setRenderHint(QPainter::Antialiasing);
  const auto& mask = outlinesOf(brainMask);
  const Extent& extent = mask.extent;
  const int axes[3][2] = {{1, 2}, {0, 2}, {0, 1}};
  const char* titles[3] = {"Sagittal", "Coronal", "Axial"};
  QFont font("DejaVu Sans");
  font.setPixelSize(pointsToPixels(7, dpi));
  p.setFont(font);
  const QFontMetricsF fm(font, p.device());
  const double titleH = pointsToPixels(11, dpi), gap = pointsToPixels(6, dpi);
  // The key beside the figure: number, network colour and name of each top region.
  const double keyW = target.width() * 0.27;
  const double figW = target.width() - keyW - gap;
  const double panelW = (figW - 2.0 * gap) / 3.0, panelH = target.height() - titleH;

  const auto& top = explanation.contains("top_rois") ? explanation["top_rois"] : json::array();
  double maxSaliency = 0;
  for (const auto& t : top) maxSaliency = std::max(maxSaliency, t.value("saliency", 0.0));

  for (int view = 0; view < 3; ++view) {
    const int ua = axes[view][0], va = axes[view][1];
    const bool mirror = radiological && ua == 0;  // the patient's left drawn on the right
    const double spanU = extent.hi[ua] - extent.lo[ua], spanV = extent.hi[va] - extent.lo[va];
    const double scale = std::min(panelW / spanU, panelH / spanV);
    const double x0 = target.left() + view * (panelW + gap) + (panelW - spanU * scale) / 2, y0 = target.top() + titleH + (panelH - spanV * scale) / 2;
    auto toPanel = [&](double u, double v) { return QPointF(x0 + (mirror ? extent.hi[ua] - u : u - extent.lo[ua]) * scale, y0 + (extent.hi[va] - v) * scale); };
    auto toPanelJson = [&](const json& pos) {
      return toPanel(pos[static_cast<std::size_t>(ua)].get<double>(), pos[static_cast<std::size_t>(va)].get<double>());
    };
    p.setPen(Qt::black);
    p.drawText(QRectF(target.left() + view * (panelW + gap), target.top(), panelW, titleH), Qt::AlignHCenter | Qt::AlignTop, titles[view]);
    const auto& proj = mask.projections[static_cast<std::size_t>(view)];
    if (!proj.mask.isNull()) {
      QPainterPath outline;
      outline.setFillRule(Qt::OddEvenFill);
      for (const auto& poly : mask.outlines[static_cast<std::size_t>(view)]) {
        QPolygonF mapped;
        for (const QPointF& q : poly) mapped << toPanel(proj.u0 + q.x(), proj.v0 + (proj.mask.height() - 1 - q.y()));
        outline.addPolygon(mapped);
        outline.closeSubpath();
      }
      p.setPen(QPen(QColor(90, 90, 90), std::max(1.0, dpi / 150.0)));
      p.setBrush(QColor(232, 232, 232));
      p.drawPath(outline);
    } else {
      p.setPen(QColor(150, 150, 150));
      p.setBrush(Qt::NoBrush);
      p.drawRect(QRectF(x0, y0, spanU * scale, spanV * scale));
    }
    // Edge letters: which side is which, in this figure's convention.
    const char* ends[3][2] = {{"L", "R"}, {"P", "A"}, {"I", "S"}};
    const QString leftEnd = ends[ua][mirror ? 1 : 0], rightEnd = ends[ua][mirror ? 0 : 1];
    p.setPen(QColor(60, 60, 60));
    p.drawText(QRectF(x0, y0 + spanV * scale - titleH, titleH, titleH), Qt::AlignLeft | Qt::AlignBottom, leftEnd);
    p.drawText(QRectF(x0 + spanU * scale - titleH, y0 + spanV * scale - titleH, titleH, titleH), Qt::AlignRight | Qt::AlignBottom, rightEnd);
    if (layout) layout->sideLabels.push_back({leftEnd, rightEnd, view});
    if (explanation.contains("roi_positions_mni")) {
      p.setPen(Qt::NoPen);
      p.setBrush(QColor(150, 150, 150));
      const double r = pointsToPixels(0.8, dpi);
      for (const auto& pos : explanation["roi_positions_mni"])
        if (pos.is_array()) p.drawEllipse(toPanelJson(pos), r, r);
    }
    // Largest first, so small discs stay visible on top.
    std::vector<std::size_t> order(top.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return top[a].value("saliency", 0.0) > top[b].value("saliency", 0.0); });
    std::vector<QRectF> discs, labels;
    std::vector<std::pair<std::size_t, QPointF>> centres;
    for (auto i : order) {
      const auto& t = top[i];
      if (!t.contains("position_mni")) continue;
      const double s = maxSaliency > 0 ? std::sqrt(t.value("saliency", 0.0) / maxSaliency) : 0.5;
      const double r = pointsToPixels(2.0 + 4.0 * s, dpi);
      const QPointF c = toPanelJson(t["position_mni"]);
      QColor colour = networkColour(QString::fromStdString(t.value("network", std::string())));
      colour.setAlpha(210);
      p.setPen(QPen(Qt::black, std::max(1, pointsToPixels(0.4, dpi))));
      p.setBrush(colour);
      p.drawEllipse(c, r, r);
      discs.push_back(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r));
      centres.emplace_back(i, c);
    }
    // Rank numbers where they overlap neither each other nor a disc: the first free place on rings
    // around the disc, with a leader line when it had to move away.
    const QRectF panel(target.left() + view * (panelW + gap), target.top() + titleH, panelW, panelH);
    for (std::size_t d = 0; d < centres.size(); ++d) {
      const auto [i, c] = centres[d];
      const QString number = QString::number(i + 1);
      const QSizeF size(fm.horizontalAdvance(number) + 2, fm.height());
      const double r = discs[d].width() / 2;
      QRectF chosen;
      bool found = false;
      for (int ring = 0; ring < 6 && !found; ++ring)
        for (int k = 0; k < 16 && !found; ++k) {
          const double angle = -M_PI / 4 + k * M_PI / 8, dist = r + size.height() * (0.6 + 0.9 * ring);
          const QPointF at(c.x() + dist * std::cos(angle), c.y() - dist * std::sin(angle));
          const QRectF box(at.x() - size.width() / 2, at.y() - size.height() / 2, size.width(), size.height());
          if (!panel.contains(box)) continue;
          bool clash = false;
          for (const auto& other : labels) clash = clash || other.intersects(box);
          for (const auto& disc : discs) clash = clash || disc.intersects(box);
          if (!clash) chosen = box, found = true;
        }
      if (!found) continue;  // the key beside the figure still names it
      if (QLineF(c, chosen.center()).length() > r + size.height() * 1.2) {
        p.setPen(QPen(QColor(80, 80, 80), std::max(1.0, dpi / 300.0)));
        p.drawLine(QLineF(c, chosen.center()).pointAt(r / QLineF(c, chosen.center()).length()), chosen.center());
      }
      p.setPen(Qt::NoPen);
      p.setBrush(QColor(255, 255, 255, 220));
      p.drawRect(chosen);
      p.setPen(Qt::black);
      p.drawText(chosen, Qt::AlignCenter, number);
      labels.push_back(chosen);
    }
    if (layout) {
      layout->labels.insert(layout->labels.end(), labels.begin(), labels.end());
      layout->discs.insert(layout->discs.end(), discs.begin(), discs.end());
      for (const auto& [i, c] : centres) layout->centres.push_back({static_cast<int>(i), view, c});
    }
  }

  // The key.
  const double kx = target.right() - keyW, rowH = fm.height() * 1.25;
  double ky = target.top();
  p.setPen(Qt::black);
  p.drawText(QRectF(kx, ky, keyW, titleH), Qt::AlignLeft | Qt::AlignTop, radiological ? "Radiological: L on right" : "Neurological: L on left");
  ky += titleH;
  int rank = 0;
  for (const auto& t : top) {
    ++rank;
    if (ky + rowH > target.bottom()) break;
    const double r = rowH * 0.3;
    p.setPen(QPen(Qt::black, std::max(1, pointsToPixels(0.3, dpi))));
    p.setBrush(networkColour(QString::fromStdString(t.value("network", std::string()))));
    p.drawEllipse(QPointF(kx + r, ky + rowH / 2), r, r);
    p.setPen(Qt::black);
    const QString text = QString("%1  %2").arg(rank).arg(QString::fromStdString(t.value("name", std::string())));
    p.drawText(QRectF(kx + 3 * r, ky, keyW - 3 * r, rowH), Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(text, Qt::ElideMiddle, keyW - 3 * r));
    ky += rowH;
  }
  p.restore();
}

QImage renderGlassBrain(const json& explanation, const std::optional<std::filesystem::path>& brainMask, int widthPx, int heightPx, double dpi,
                        bool radiological) {
  QImage image(widthPx, heightPx, QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter p(&image);
  paintGlassBrain(p, QRectF(0, 0, widthPx, heightPx), explanation, brainMask, dpi, radiological);
  return image;
}

void paintNetworkBars(QPainter& p, const QRectF& target, const json& networks, double dpi) {
  p.save();
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
  p.setPen(Qt::black);
  if (rows.empty() || total <= 0) {
    p.drawText(target, Qt::AlignCenter, "No per-network explanation");
    p.restore();
    return;
  }
  const double labelW = target.width() / 4, valueW = target.width() / 10;
  const double rowH = target.height() / static_cast<double>(rows.size());
  const double barMax = target.width() - labelW - valueW - pointsToPixels(4, dpi);
  const double top = rows.front().second / total;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double share = rows[i].second / total, y = target.top() + static_cast<double>(i) * rowH;
    p.setPen(Qt::black);
    p.drawText(QRectF(target.left(), y, labelW - pointsToPixels(3, dpi), rowH), Qt::AlignRight | Qt::AlignVCenter, QString::fromStdString(rows[i].first));
    p.fillRect(QRectF(target.left() + labelW, y + rowH * 0.15, barMax * share / top, rowH * 0.7), networkColour(QString::fromStdString(rows[i].first)));
    p.drawText(QRectF(target.left() + labelW + barMax * share / top + pointsToPixels(2, dpi), y, valueW, rowH), Qt::AlignLeft | Qt::AlignVCenter,
               QString::number(100.0 * share, 'f', 1) + " %");
  }
  p.restore();
}

QImage renderNetworkBars(const json& networks, int widthPx, int heightPx, double dpi) {
  QImage image(widthPx, heightPx, QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter p(&image);
  paintNetworkBars(p, QRectF(0, 0, widthPx, heightPx), networks, dpi);
  return image;
}

}  // namespace bg::report
