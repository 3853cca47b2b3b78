#include "RunDashboard.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include "platform/Process.h"
#include "workspace/RunActions.h"

namespace bg::ui {

namespace {
QChartView* makeChartView(const QString& title, const QString& tooltip, QWidget* parent) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  auto* view = new QChartView(chart, parent);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumHeight(150);
  view->setToolTip(tooltip);
  return view;
}

QString duration(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return QStringLiteral("—");
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s < 60) return QStringLiteral("%1 s").arg(s);
  if (s < 3600) return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

// At most this many points per curve are drawn: longer curves are averaged over consecutive runs of
// points (a long run's file holds tens of thousands, and redrawing them every second costs the GUI
// thread ~0.1 s; bench_dashboard measures it).
constexpr std::size_t kMaxDrawnPoints = 1000;

// Draws every series whose name starts with one of `prefixes` on the chart, with shared axes; fold > 0:
// only that fold's curves (the per-fold test points, one per fold, are then left out).
void draw(QChart* chart, const QString& title, const RunMetrics& m, const QStringList& prefixes, const QString& yTitle, int fold) {
  // One pass over the points, grouped by series in first-seen order.
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> curves;
  for (const auto& p : m.points) {
    const QString name = QString::fromStdString(p.series);
    if (std::none_of(prefixes.begin(), prefixes.end(), [&](const QString& prefix) { return name.startsWith(prefix); })) continue;
    if (!std::isfinite(p.value)) continue;
    if (fold > 0 && seriesFold(p.series) != fold) continue;
    auto [it, added] = curves.try_emplace(p.series);
    if (added) order.push_back(p.series);
    it->second.first.push_back(p.x);
    it->second.second.push_back(p.value);
  }
  // The same curves as drawn already (a refresh during a run): only their points change, which is
  // far cheaper than new series and axes.
  QStringList names;
  for (const auto& n : order) names << QString::fromStdString(n);
  QStringList shown;
  for (auto* series : chart->series()) shown << series->objectName();
  const bool reuse = names == shown && chart->axes(Qt::Horizontal).size() == 1 && chart->axes(Qt::Vertical).size() == 1;
  if (!reuse) {
    chart->removeAllSeries();
    for (auto* axis : chart->axes()) {
      chart->removeAxis(axis);
      delete axis;
    }
    // Few ticks in a small font: readable in the dock's default size.
    QFont font = chart->font();
    font.setPointSizeF(std::max(6.0, font.pointSizeF() - 1));
    auto* xAxis = new QValueAxis;
    xAxis->setTitleText(QObject::tr("epoch"));
    xAxis->setLabelFormat(QStringLiteral("%.3g"));
    xAxis->setTickCount(5);
    xAxis->setLabelsFont(font);
    xAxis->setTitleFont(font);
    auto* yAxis = new QValueAxis;
    yAxis->setTitleText(yTitle);
    yAxis->setTickCount(5);
    yAxis->setLabelFormat(QStringLiteral("%.2f"));
    yAxis->setLabelsFont(font);
    yAxis->setTitleFont(font);
    chart->addAxis(xAxis, Qt::AlignBottom);
    chart->addAxis(yAxis, Qt::AlignLeft);
  }
  auto* x = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).front());
  auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).front());
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool any = false;
  for (std::size_t c = 0; c < order.size(); ++c) {
    const auto& [xs, ys] = curves[order[c]];
    const QString qname = names[static_cast<qsizetype>(c)];
    QLineSeries* s = reuse ? qobject_cast<QLineSeries*>(chart->series()[static_cast<qsizetype>(c)]) : new QLineSeries;
    s->setObjectName(qname);
    // Legend: "gcl" for loss/gcl (the chart's title says loss), "validation auc" for validation/auc.
    s->setName(qname.startsWith(QStringLiteral("loss/")) ? qname.mid(5) : QString(qname).replace(QLatin1Char('/'), QLatin1Char(' ')));
    const std::size_t n = xs.size(), step = (n + kMaxDrawnPoints - 1) / kMaxDrawnPoints;
    QList<QPointF> drawn;
    drawn.reserve(static_cast<qsizetype>(n / std::max<std::size_t>(1, step) + 1));
    for (std::size_t i = 0; i < n; i += step) {
      const std::size_t end = std::min(n, i + step);
      double sx = 0, sy = 0;
      for (std::size_t k = i; k < end; ++k) {
        sx += xs[k];
        sy += ys[k];
      }
      drawn.append(QPointF(sx / static_cast<double>(end - i), sy / static_cast<double>(end - i)));
    }
    for (const auto& q : drawn) {
      if (!any) {
        x0 = x1 = q.x();
        y0 = y1 = q.y();
        any = true;
      }
      x0 = std::min(x0, q.x());
      x1 = std::max(x1, q.x());
      y0 = std::min(y0, q.y());
      y1 = std::max(y1, q.y());
    }
    s->replace(drawn);
    if (!reuse) {
      chart->addSeries(s);
      s->attachAxis(x);
      s->attachAxis(y);
    }
  }
  chart->setTitle(chart->series().isEmpty() ? QObject::tr("%1: none reported by this run").arg(title) : title);
  chart->legend()->setVisible(chart->series().size() <= 8);  // every fold and member of an evaluation: pick a fold instead
  if (x1 <= x0) x1 = x0 + 1;
  const double pad = y1 > y0 ? 0.05 * (y1 - y0) : 0.5;
  x->setRange(x0, x1);
  y->setRange(y0 - pad, y1 + pad);
  x->applyNiceNumbers();  // ticks at round epochs and values
  y->applyNiceNumbers();
}
}  // namespace

RunDashboard::RunDashboard(QWidget* parent) : QWidget(parent) {
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  status_->setToolTip(tr("State, device, memory, throughput, learning rate and estimated time left of the selected run"));
  lossView_ = makeChartView(tr("Training loss"), tr("Loss per objective, per batch"), this);
  validationView_ = makeChartView(tr("Validation and test"), tr("Validation metrics per epoch; test metrics per fold of an evaluation"), this);
  summary_ = new QLabel(this);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  summary_->setToolTip(tr("An evaluation's test metrics over its folds: mean ± SD (sample SD), as evaluate reports them"));
  fold_ = new QComboBox(this);
  fold_->setToolTip(tr("An evaluation's folds: each fold's curves start at its own epoch 1; show every fold or one"));
  fold_->addItem(tr("All folds"), 0);
  connect(fold_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { redraw(); });
  auto* foldRow = new QHBoxLayout;
  foldRow->addWidget(summary_, 1);
  foldRow->addWidget(fold_);
  auto* charts = new QHBoxLayout;
  charts->addWidget(lossView_, 1);
  charts->addWidget(validationView_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(status_);
  layout->addLayout(foldRow);
  layout->addLayout(charts, 1);
  clear();
}

void RunDashboard::clear() {
  run_ = TrackedRun();
  metrics_ = RunMetrics();
  offset_ = 0;
  drawnPoints_ = static_cast<std::size_t>(-1);
  status_->setText(tr("Select a run to follow it."));
  redraw();
}

void RunDashboard::setRun(const TrackedRun& run) {
  if (run.id != run_.id) {
    metrics_ = RunMetrics();
    offset_ = 0;
    drawnPoints_ = static_cast<std::size_t>(-1);
  }
  run_ = run;
  poll();
}

void RunDashboard::poll() {
  if (run_.id == 0) return;
  if (!run_.logPath.empty()) offset_ = readRunMetrics(runMetricsPath(run_.logPath), offset_, metrics_);
  status_->setText(statusText());
  if (metrics_.points.size() != drawnPoints_) redraw();
}

QString RunDashboard::statusText() const {
  if (run_.id == 0) return tr("Select a run to follow it.");
  const bool alive = run_.state == JobState::Running && processExists(run_.pid);
  QStringList parts;
  parts << tr("Run %1: <b>%2</b>").arg(run_.id).arg(QString::fromStdString(runActions(run_, alive && processPaused(run_.pid)).state));
  parts << tr("device %1").arg(metrics_.notes.contains("device") ? QString::fromStdString(metrics_.notes["device"].get<std::string>()) : tr("not reported"));
  if (alive) parts << tr("memory %1 MiB").arg(processResidentMiB(run_.pid), 0, 'f', 0);
  const auto last = [&](const char* series) {
    for (auto p = metrics_.points.rbegin(); p != metrics_.points.rend(); ++p)
      if (p->series == series) return p->value;
    return std::nan("");
  };
  if (const double g = last("graphs_per_s"); std::isfinite(g)) parts << tr("%1 graphs/s").arg(g, 0, 'f', 1);
  if (const double lr = last("lr"); std::isfinite(lr)) parts << tr("learning rate %1").arg(lr, 0, 'g', 3);
  const double elapsed = metrics_.points.empty() ? -1 : metrics_.points.back().seconds;
  if (elapsed >= 0) parts << tr("elapsed %1").arg(duration(elapsed));
  if (alive && run_.progress > 0.01 && elapsed > 0) parts << tr("ETA %1").arg(duration(elapsed * (1.0 - run_.progress) / run_.progress));
  return parts.join(QStringLiteral(" · "));
}

void RunDashboard::redraw() {
  updateFolds();
  const int fold = fold_->currentData().toInt();
  draw(lossView_->chart(), tr("Training loss"), metrics_, {QStringLiteral("loss/")}, tr("loss"), fold);
  draw(validationView_->chart(), tr("Validation and test"), metrics_, {QStringLiteral("validation/"), QStringLiteral("test/")}, tr("metric"), fold);
  summary_->setText(summaryText());
  drawnPoints_ = metrics_.points.size();
}

void RunDashboard::updateFolds() {
  int folds = 0;
  for (const auto& p : metrics_.points) folds = std::max(folds, seriesFold(p.series));
  if (fold_->count() != folds + 1) {
    const QSignalBlocker block(fold_);
    const int chosen = fold_->currentData().toInt();
    while (fold_->count() > 1) fold_->removeItem(fold_->count() - 1);
    for (int f = 1; f <= folds; ++f) fold_->addItem(tr("Fold %1").arg(f), f);
    fold_->setCurrentIndex(chosen <= folds ? chosen : 0);
  }
  fold_->setVisible(folds > 0);
}

QString RunDashboard::summaryText() const {
  // Only the per-fold test points: the loss curves (most of a run's points) play no part here.
  std::vector<MetricPoint> tests;
  for (const auto& p : metrics_.points)
    if (p.series.rfind("test/", 0) == 0) tests.push_back(p);
  const auto summary = summariseRunMetrics(tests);
  QStringList parts;
  int folds = 0;
  for (const char* metric : {"auc", "accuracy", "balanced_accuracy"}) {
    const std::string key = std::string("test/") + metric;
    if (!summary.contains(key)) continue;
    folds = std::max(folds, static_cast<int>(std::count_if(tests.begin(), tests.end(), [&](const MetricPoint& p) { return p.series == key; })));
    const double sd = summary.contains(key + " sd") ? summary[key + " sd"].get<double>() : 0.0;
    parts << tr("%1 %2 ± %3")
                 .arg(metric == std::string("auc") ? tr("AUC") : QString::fromLatin1(metric).replace(QLatin1Char('_'), QLatin1Char(' ')))
                 .arg(summary[key].get<double>(), 0, 'f', 3)
                 .arg(sd, 0, 'f', 3);
  }
  if (parts.isEmpty()) return {};
  return (folds == 1 ? tr("Test over 1 fold: ") : tr("Test over %1 folds: ").arg(folds)) + parts.join(QStringLiteral(" · "));
}

int RunDashboard::lossPointCount() const {
  int n = 0;
  for (auto* s : lossView_->chart()->series())
    if (auto* line = qobject_cast<QLineSeries*>(s)) n += static_cast<int>(line->count());
  return n;
}

QStringList RunDashboard::lossSeriesNames() const {
  QStringList names;
  for (auto* s : lossView_->chart()->series()) names << s->objectName();
  return names;
}

QStringList RunDashboard::validationSeriesNames() const {
  QStringList names;
  for (auto* s : validationView_->chart()->series()) names << s->objectName();
  return names;
}

}  // namespace bg::ui
