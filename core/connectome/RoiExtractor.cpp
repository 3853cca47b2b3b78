#include "connectome/RoiExtractor.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <Eigen/Eigenvalues>

#include "errors/Error.h"
#include "io/NiftiImage.h"

namespace bg {

RoiSummary parseRoiSummary(const std::string& name) {
  if (name == "mean") return RoiSummary::Mean;
  if (name == "median") return RoiSummary::Median;
  if (name == "pc1") return RoiSummary::FirstPrincipalComponent;
  throw Error(ErrorCode::Usage, "ROI summary '" + name + "' is not mean, median or pc1");
}

RoiExtractor::RoiExtractor(std::vector<LabelMap> maps, RoiSummary summary) : maps_(std::move(maps)), summary_(summary) {
  if (maps_.empty()) throw Error(ErrorCode::Usage, "no atlas selected");
  const std::size_t nvox = maps_.front().roiOfVoxel.size();
  for (const auto& m : maps_)
    if (m.roiOfVoxel.size() != nvox) throw Error(ErrorCode::Internal, "label maps on different grids");
  const std::size_t A = maps_.size();
  std::size_t offset = 0;
  for (const auto& m : maps_) {
    slotOffset_.push_back(offset);
    offset += static_cast<std::size_t>(m.roiCount()) + 1;
  }
  for (std::size_t v = 0; v < nvox; ++v) {
    bool any = false;
    for (const auto& m : maps_) any = any || m.roiOfVoxel[v] >= 0;
    if (!any) continue;
    active_.push_back(static_cast<std::int64_t>(v));
    for (std::size_t a = 0; a < A; ++a) {
      const std::int32_t r = maps_[a].roiOfVoxel[v];
      slots_.push_back(static_cast<std::int32_t>(slotOffset_[a] + (r >= 0 ? static_cast<std::size_t>(r) : static_cast<std::size_t>(maps_[a].roiCount()))));
    }
  }
}

namespace {
// A bounded hand-off of decoded volumes from the reader thread to the accumulator.
class VolumeQueue {
 public:
  explicit VolumeQueue(std::size_t capacity) : capacity_(capacity) {}
  bool push(std::vector<float>&& v) {
    std::unique_lock lock(m_);
    notFull_.wait(lock, [&] { return q_.size() < capacity_ || closed_; });
    if (closed_) return false;
    q_.push_back(std::move(v));
    notEmpty_.notify_one();
    return true;
  }
  bool pop(std::vector<float>& out) {
    std::unique_lock lock(m_);
    notEmpty_.wait(lock, [&] { return !q_.empty() || done_; });
    if (q_.empty()) return false;
    out = std::move(q_.front());
    q_.pop_front();
    notFull_.notify_one();
    return true;
  }
  void finish() {
    std::lock_guard lock(m_);
    done_ = true;
    notEmpty_.notify_all();
  }
  void close() {  // the consumer gives up: unblock the producer
    std::lock_guard lock(m_);
    closed_ = true;
    notFull_.notify_all();
  }
  // Recycled buffers avoid an allocation per volume.
  std::vector<float> spare(std::size_t n) {
    std::lock_guard lock(m_);
    if (!spares_.empty()) {
      auto v = std::move(spares_.back());
      spares_.pop_back();
      return v;
    }
    return std::vector<float>(n);
  }
  void recycle(std::vector<float>&& v) {
    std::lock_guard lock(m_);
    spares_.push_back(std::move(v));
  }

 private:
  std::mutex m_;
  std::condition_variable notFull_, notEmpty_;
  std::deque<std::vector<float>> q_;
  std::vector<std::vector<float>> spares_;
  std::size_t capacity_;
  bool done_ = false, closed_ = false;
};

double median(std::vector<float>& v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) m = 0.5 * (m + *std::max_element(v.begin(), v.begin() + static_cast<long>(mid)));
  return m;
}
}  // namespace

std::vector<RoiSignals> RoiExtractor::extract(const std::filesystem::path& bold, ProgressDelegate& progress) {
  NiftiReader reader(bold);
  const auto& h = reader.header();
  const std::size_t nvox = static_cast<std::size_t>(h.voxelsPerVolume());
  if (nvox != maps_.front().roiOfVoxel.size()) throw Error(ErrorCode::Internal, "label maps were made for another grid than " + bold.string());
  const auto T = static_cast<std::size_t>(h.volumes());
  const std::size_t A = maps_.size(), V = active_.size();
  const std::size_t totalSlots = slotOffset_.back() + static_cast<std::size_t>(maps_.back().roiCount()) + 1;

  // Sums per slot and time point; per-voxel sum and sum of squares for the signal mask.
  std::vector<double> sums(totalSlots * T, 0.0);
  std::vector<double> vsum(V, 0.0), vsq(V, 0.0);
  // Non-finite values are left out: per voxel a flag, per time point and slot how many were missing.
  std::vector<char> nonFinite(V, 0);
  std::vector<std::int32_t> missing;  // totalSlots x T, allocated on the first non-finite value
  const bool keepVoxels = summary_ != RoiSummary::Mean;
  std::vector<float> voxelSeries(keepVoxels ? V * T : 0);  // only for median / pc1

  VolumeQueue queue(4);
  std::exception_ptr readError;
  std::thread producer([&] {
    try {
      for (std::size_t t = 0; t < T; ++t) {
        auto buf = queue.spare(nvox);
        if (!reader.readVolume(buf.data())) break;
        if (!queue.push(std::move(buf))) return;
      }
    } catch (...) {
      readError = std::current_exception();
    }
    queue.finish();
  });

  std::vector<float> vol;
  std::size_t t = 0;
  try {
    while (queue.pop(vol)) {
      double* row = sums.data() + t * totalSlots;
      const std::int32_t* slot = slots_.data();
      for (std::size_t i = 0; i < V; ++i, slot += A) {
        const float x = vol[static_cast<std::size_t>(active_[i])];
        if (!std::isfinite(x)) [[unlikely]] {
          nonFinite[i] = 1;
          if (missing.empty()) missing.assign(totalSlots * T, 0);
          for (std::size_t a = 0; a < A; ++a) ++missing[t * totalSlots + static_cast<std::size_t>(slot[a])];
          if (keepVoxels) voxelSeries[i * T + t] = 0.0f;
          continue;
        }
        for (std::size_t a = 0; a < A; ++a) row[slot[a]] += x;
        vsum[i] += x;
        vsq[i] += static_cast<double>(x) * x;
        if (keepVoxels) voxelSeries[i * T + t] = x;
      }
      queue.recycle(std::move(vol));
      ++t;
      if (progress.update("reading volumes", static_cast<double>(t) / static_cast<double>(T))) throw CancelledError();
    }
  } catch (...) {
    queue.close();
    producer.join();
    throw;
  }
  producer.join();
  if (readError) std::rethrow_exception(readError);
  if (t != T) throw Error(ErrorCode::Data, "read " + std::to_string(t) + " of " + std::to_string(T) + " volumes from " + bold.string());

  // A voxel carries signal when it varies over time (outside the brain or the field of view it is constant).
  std::vector<char> hasSignal(V);
  for (std::size_t i = 0; i < V; ++i) {
    const double mean = vsum[i] / static_cast<double>(T);
    const double var = vsq[i] / static_cast<double>(T) - mean * mean;
    hasSignal[i] = !nonFinite[i] && var > 1e-12 * std::max(1.0, mean * mean);
  }

  std::vector<RoiSignals> out(A);
  const double voxelVolume = ScanGrid{{h.dim[0], h.dim[1], h.dim[2]}, h.voxelToWorld}.voxelVolume();
  for (std::size_t a = 0; a < A; ++a) {
    const auto& m = maps_[a];
    const auto N = static_cast<std::size_t>(m.roiCount());
    RoiSignals& s = out[a];
    s.atlasId = m.atlasId;
    s.voxels = m.voxelsPerRoi;
    s.signalVoxels.assign(N, 0);
    s.nonFiniteVoxels.assign(N, 0);
    for (std::size_t i = 0; i < V; ++i) {
      const std::int32_t r = m.roiOfVoxel[static_cast<std::size_t>(active_[i])];
      if (r >= 0 && hasSignal[i]) ++s.signalVoxels[static_cast<std::size_t>(r)];
      if (r >= 0 && nonFinite[i]) ++s.nonFiniteVoxels[static_cast<std::size_t>(r)];
    }
    s.series = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(T), static_cast<Eigen::Index>(N));
    if (summary_ == RoiSummary::Mean) {
      for (std::size_t tt = 0; tt < T; ++tt)
        for (std::size_t r = 0; r < N; ++r) {
          const auto slotIndex = tt * totalSlots + slotOffset_[a] + r;
          const auto finite = s.voxels[r] - (missing.empty() ? 0 : missing[slotIndex]);
          if (finite > 0) s.series(static_cast<Eigen::Index>(tt), static_cast<Eigen::Index>(r)) = sums[slotIndex] / static_cast<double>(finite);
        }
    } else {
      std::vector<std::vector<std::size_t>> members(N);
      for (std::size_t i = 0; i < V; ++i) {
        const std::int32_t r = m.roiOfVoxel[static_cast<std::size_t>(active_[i])];
        if (r >= 0 && !nonFinite[i]) members[static_cast<std::size_t>(r)].push_back(i);
      }
      std::vector<float> values;
      for (std::size_t r = 0; r < N; ++r) {
        const auto& mem = members[r];
        if (mem.empty()) continue;
        if (summary_ == RoiSummary::Median) {
          for (std::size_t tt = 0; tt < T; ++tt) {
            values.clear();
            for (auto i : mem) values.push_back(voxelSeries[i * T + tt]);
            s.series(static_cast<Eigen::Index>(tt), static_cast<Eigen::Index>(r)) = median(values);
          }
        } else {
          // First principal component of the ROI's (centred) voxel series, scaled to the mean's sign and size.
          Eigen::MatrixXd X(static_cast<Eigen::Index>(T), static_cast<Eigen::Index>(mem.size()));
          for (std::size_t c = 0; c < mem.size(); ++c)
            for (std::size_t tt = 0; tt < T; ++tt) X(static_cast<Eigen::Index>(tt), static_cast<Eigen::Index>(c)) = voxelSeries[mem[c] * T + tt];
          const Eigen::VectorXd meanSeries = X.rowwise().mean();
          Eigen::MatrixXd Xc = X.rowwise() - X.colwise().mean();
          Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(Xc * Xc.transpose());
          Eigen::VectorXd pc = eig.eigenvectors().col(static_cast<Eigen::Index>(T) - 1);
          const Eigen::VectorXd mc = meanSeries.array() - meanSeries.mean();
          if (pc.dot(mc) < 0) pc = -pc;
          const double scale = std::sqrt(std::max(0.0, eig.eigenvalues()(static_cast<Eigen::Index>(T) - 1)) / static_cast<double>(mem.size()));
          s.series.col(static_cast<Eigen::Index>(r)) = pc * scale;
        }
      }
    }
    s.coverage.assign(N, 0.0);
    s.tsnr.assign(N, 0.0);
    for (std::size_t r = 0; r < N; ++r) {
      if (m.roiVolumeMm3[r] > 0) s.coverage[r] = std::min(1.0, static_cast<double>(s.signalVoxels[r]) * voxelVolume / m.roiVolumeMm3[r]);
      const auto col = s.series.col(static_cast<Eigen::Index>(r));
      const double mu = col.mean();
      const double sd = std::sqrt((col.array() - mu).square().sum() / std::max<double>(1.0, static_cast<double>(T) - 1));
      s.tsnr[r] = sd > 0 ? mu / sd : 0.0;
    }
  }
  return out;
}

}  // namespace bg
