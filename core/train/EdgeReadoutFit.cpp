#include "train/EdgeReadoutFit.h"

#include "errors/Error.h"
#include "eval/Baselines.h"

namespace bg::train {

void fitEdgeReadout(model::DownstreamModelImpl& m, const ArrayStore& store, const std::vector<DatasetItem>& items, double c) {
  if (!m.edgeHead.defined()) throw Error(ErrorCode::Config, "the model has no edge readout to fit");
  if (m.classes() != 2) throw Error(ErrorCode::Config, "the logistic-regression edge readout is for two classes");
  if (items.empty()) throw Error(ErrorCode::Data, "no training items for the edge readout");
  const auto n = static_cast<Eigen::Index>(items.front().nodes);
  if (n > m.edgeHead.size(1)) throw Error(ErrorCode::Data, "the graphs are larger than the edge readout");
  Eigen::MatrixXd x(static_cast<Eigen::Index>(items.size()), n * (n - 1) / 2);
  Eigen::VectorXi y(static_cast<Eigen::Index>(items.size()));
  for (std::size_t k = 0; k < items.size(); ++k) {
    const auto fc = store.read(items[k].fcArray);
    if (fc.rows() != n || fc.cols() != n) throw Error(ErrorCode::Data, "the edge readout needs graphs of one size (one atlas)");
    Eigen::Index col = 0;
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = i + 1; j < n; ++j) x(static_cast<Eigen::Index>(k), col++) = fc(i, j);
    y(static_cast<Eigen::Index>(k)) = items[k].label;
  }
  if ((y.array() == 1).count() == 0 || (y.array() == 0).count() == 0)
    throw Error(ErrorCode::Data, "the edge readout needs both classes among the training items");
  Standardizer scaler;
  scaler.fit(x);
  LogisticRegression regression(c);
  regression.fit(scaler.apply(x), y);
  // Back to the raw edges: w . (x - mean) / scale + b = (w / scale) . x + b - sum(w * mean / scale).
  const Eigen::RowVectorXd w = regression.weights().transpose().array() / scaler.scale.array();
  const double b = regression.intercept() - (w.array() * scaler.mean.array()).sum();
  // Each edge appears twice in sum_ij V_ij x_ij, and the margin is logit 1 - logit 0: +w/4 and -w/4.
  auto v = torch::zeros({n, n}, torch::kFloat64);
  auto a = v.accessor<double, 2>();
  Eigen::Index col = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) a[i][j] = a[j][i] = w(col++) / 4.0;
  torch::NoGradGuard ng;
  m.edgeHead.zero_();
  m.edgeHead[1].narrow(0, 0, n).narrow(1, 0, n).copy_(v);
  m.edgeHead[0].narrow(0, 0, n).narrow(1, 0, n).copy_(-v);
  m.head->bias[1].fill_(b / 2.0);
  m.head->bias[0].fill_(-b / 2.0);
}

}  // namespace bg::train
