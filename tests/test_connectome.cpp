// The science pipeline against independent computations: NIfTI loading, atlas placement,
// ROI extraction, connectivity and orientation.
#include <QTest>

#include <fstream>
#include <nlohmann/json.hpp>

#include <limits>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>

#include <Eigen/LU>
#include <Eigen/SVD>
#include <zlib.h>

#include "TestSupport.h"
#include "atlas/AtlasRegistry.h"
#include "atlas/LabelMap.h"
#include "connectome/Connectivity.h"
#include "connectome/ConnectomePipeline.h"
#include "connectome/RoiExtractor.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"
#include "io/Npy.h"
#include "io/TimeSeriesFile.h"
#include "support/SyntheticBold.h"

using namespace bg;

namespace {
AtlasRegistry registry() { return AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()})); }

// Pearson correlation written out the textbook way.
double bruteCorr(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double ma = a.mean(), mb = b.mean();
  double sab = 0, saa = 0, sbb = 0;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    sab += (a(i) - ma) * (b(i) - mb);
    saa += (a(i) - ma) * (a(i) - ma);
    sbb += (b(i) - mb) * (b(i) - mb);
  }
  return sab / std::sqrt(saa * sbb);
}
}  // namespace

class TestConnectome : public QObject {
  Q_OBJECT
  std::filesystem::path dir_;
  bgtest::SyntheticBold bold_;

 private Q_SLOTS:
  void initTestCase() {
    dir_ = bgtest::scratchDir("connectome");
    // Synthetic scan on Schaefer100's own 2 mm MNI grid: every voxel = its ROI's signal + noise.
    const auto atlas = readNiftiVolume(registry().volumeFile("schaefer100"));
    bold_ = bgtest::writeSyntheticBold(dir_ / "synthetic_bold.nii.gz", atlas, 24, 2.0, 3.0, 7);
  }

  void niftiSamplesLoad_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("shape");
    QTest::addColumn<double>("tr");
    QTest::addColumn<int>("version");
    QTest::newRow("cobre func") << "0040071_COBRE_3mm_functional_segment.nii.gz"
                                << "61x73x61x5" << 2.0 << 1;
    QTest::newRow("cobre anat") << "0040071_COBRE_3mm_anatomical.nii.gz"
                                << "61x73x61" << 0.0 << 1;
    QTest::newRow("example4d") << "example4d.nii.gz"
                               << "128x96x24x2" << 2.0 << 1;
    QTest::newRow("nifti2") << "example_nifti2.nii.gz"
                            << "32x20x12x2" << 2.0 << 2;
    QTest::newRow("functional") << "functional.nii"
                                << "17x21x3x20" << 2.0 << 1;
    QTest::newRow("nipy functional") << "nipy_functional.nii.gz"
                                     << "17x21x3x20" << 2.0 << 1;
    QTest::newRow("anatomical") << "anatomical.nii"
                                << "33x41x25" << 0.0 << 1;
    QTest::newRow("nitime") << "nitime_fmri1.nii.gz"
                            << "10x10x18x40" << 1.35 << 1;
  }
  void niftiSamplesLoad() {
    QFETCH(QString, file);
    QFETCH(QString, shape);
    QFETCH(double, tr);
    QFETCH(int, version);
    const auto vol = readNiftiVolume(bgtest::dataRoot() / "data/nifti-samples" / file.toStdString());
    QCOMPARE(QString::fromStdString(vol.header.shapeString()), shape);
    QVERIFY2(std::fabs(vol.header.repetitionTime - tr) < 1e-4, std::to_string(vol.header.repetitionTime).c_str());
    QCOMPARE(vol.header.niftiVersion, version);
    QCOMPARE(static_cast<std::int64_t>(vol.data.size()), vol.header.voxelsPerVolume() * vol.header.volumes());
  }

  void scalingIsApplied() {
    // functional.nii is int16 with scl_slope 0.0754: compare against raw bytes read by hand.
    const auto path = bgtest::dataRoot() / "data/nifti-samples/functional.nii";
    const auto vol = readNiftiVolume(path);
    QVERIFY(vol.header.sclSlope != 1.0);
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    float voxOffset, slope, inter;
    std::memcpy(&voxOffset, bytes.data() + 108, 4);
    std::memcpy(&slope, bytes.data() + 112, 4);
    std::memcpy(&inter, bytes.data() + 116, 4);
    for (std::size_t i : {std::size_t(0), std::size_t(100), std::size_t(1000), vol.data.size() - 1}) {
      std::int16_t raw;
      std::memcpy(&raw, bytes.data() + static_cast<std::size_t>(voxOffset) + i * 2, 2);
      QCOMPARE(vol.data[i], static_cast<float>(raw * static_cast<double>(slope) + inter));
    }
    // example4d is int16 and carries scl_slope = 1.
    const auto ex = readNiftiHeader(bgtest::dataRoot() / "data/nifti-samples/example4d.nii.gz");
    QCOMPARE(ex.datatype, 4);
    QVERIFY(ex.repetitionTimeGuessed);
  }

  void gzipAndPlainReadTheSame() {
    const auto a = readNiftiVolume(bgtest::dataRoot() / "data/nifti-samples/functional.nii");
    const auto b = readNiftiVolume(bgtest::dataRoot() / "data/nifti-samples/nipy_functional.nii.gz");
    QVERIFY(a.data == b.data);
    QVERIFY(a.header.voxelToWorld.isApprox(b.header.voxelToWorld));
  }

  void writeReadRoundTrip() {
    NiftiHeader h;
    h.ndim = 4;
    h.dim = {5, 4, 3, 6};
    h.pixdim = {2, 2, 2, 1.5};
    h.repetitionTime = 1.5;
    h.voxelToWorld << -2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1;
    std::vector<float> data(5 * 4 * 3 * 6);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i) * 0.5f - 3.0f;
    writeNiftiFloat(dir_ / "rt.nii.gz", h, data.data());
    const auto back = readNiftiVolume(dir_ / "rt.nii.gz");
    QVERIFY(back.data == data);
    QCOMPARE(back.header.shapeString(), std::string("5x4x3x6"));
    QCOMPARE(back.header.repetitionTime, 1.5);
    QVERIFY(back.header.voxelToWorld.isApprox(h.voxelToWorld, 1e-6));
  }

  void roiMeansMatchBruteForce() {
    const auto reg = registry();
    const auto header = readNiftiHeader(dir_ / "synthetic_bold.nii.gz");
    AtlasResampler resampler(reg);
    auto map = resampler.map("schaefer100", ScanGrid::of(header));
    // Same grid: resampling must be the identity.
    for (std::size_t i = 0; i < bold_.labels.size(); ++i) {
      const int expected = bold_.labels[i] - 1;
      QCOMPARE(map.roiOfVoxel[i], expected);
    }
    RoiExtractor extractor({map});
    NullProgress p;
    const auto signals = extractor.extract(dir_ / "synthetic_bold.nii.gz", p);
    const auto vol = readNiftiVolume(dir_ / "synthetic_bold.nii.gz");
    const auto n = static_cast<std::size_t>(header.voxelsPerVolume());
    // Brute force: average every voxel of each label directly from the volume data.
    Eigen::MatrixXd brute = Eigen::MatrixXd::Zero(24, 100);
    std::vector<int> count(100, 0);
    for (std::size_t i = 0; i < n; ++i)
      if (bold_.labels[i] > 0) ++count[static_cast<std::size_t>(bold_.labels[i] - 1)];
    for (int t = 0; t < 24; ++t)
      for (std::size_t i = 0; i < n; ++i)
        if (bold_.labels[i] > 0) brute(t, bold_.labels[i] - 1) += vol.data[static_cast<std::size_t>(t) * n + i];
    for (int r = 0; r < 100; ++r) brute.col(r) /= count[static_cast<std::size_t>(r)];
    const double maxDiff = (signals[0].series - brute).cwiseAbs().maxCoeff();
    QVERIFY2(maxDiff < 1e-5 * 1000, std::to_string(maxDiff).c_str());  // 1e-5 relative to the signal level
    QVERIFY((signals[0].series - brute).cwiseAbs().maxCoeff() / brute.cwiseAbs().maxCoeff() < 1e-5);
    // And the known signals come back within the averaged noise.
    QVERIFY((signals[0].series - bold_.roiSignals).cwiseAbs().maxCoeff() < 3.0);
    for (int r = 0; r < 100; ++r) QCOMPARE(signals[0].voxels[static_cast<std::size_t>(r)], static_cast<std::int64_t>(count[static_cast<std::size_t>(r)]));
    for (double c : signals[0].coverage) QVERIFY(c > 0.99);

    // FC against the textbook formula.
    const auto fc = pearson(signals[0].series);
    for (int i = 0; i < 100; i += 7)
      for (int j = 0; j < 100; j += 11) QVERIFY(std::fabs(fc.matrix(i, j) - (i == j ? 1.0 : bruteCorr(brute.col(i), brute.col(j)))) < 1e-6);
  }

  // NaN and infinite voxels (a bad mask, a division by zero upstream) are left out of their ROIs,
  // counted in the QC, never turned into silent garbage; a scan they ruin is refused.
  void nonFiniteVoxelsAreLeftOut() {
    auto vol = readNiftiVolume(dir_ / "synthetic_bold.nii.gz");
    const auto n = static_cast<std::size_t>(vol.header.voxelsPerVolume());
    std::mt19937 rng(3);
    std::vector<char> bad(n, 0);
    std::int64_t injected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (bold_.labels[i] <= 0) continue;
      const double u = std::uniform_real_distribution<double>(0, 1)(rng);
      // ROI 1 entirely NaN; elsewhere 5% of voxels NaN in every volume and 1% infinite in one volume.
      if (bold_.labels[i] == 1 || u < 0.05) {
        for (int t = 0; t < 24; ++t) vol.data[static_cast<std::size_t>(t) * n + i] = std::numeric_limits<float>::quiet_NaN();
        bad[i] = 1;
      } else if (u < 0.06) {
        vol.data[5 * n + i] = std::numeric_limits<float>::infinity();
        bad[i] = 2;
      }
      injected += bad[i] ? 1 : 0;
    }
    const auto file = dir_ / "nan_bold.nii.gz";
    writeNiftiFloat(file, vol.header, vol.data.data());
    const auto reg = registry();
    ConnectomeRequest req;
    req.bold = file;
    req.atlases = {"schaefer100"};
    req.outDir = dir_ / "nan-out";
    req.options.clean = false;
    NullProgress p;
    const auto result = runConnectome(reg, req, p);
    std::ifstream qcFile(req.outDir / "schaefer100_qc.json");
    const auto qc = nlohmann::json::parse(qcFile);
    QCOMPARE(qc["non_finite_voxels"].get<std::int64_t>(), injected);
    const auto ts = readRoiTimeSeries(req.outDir / "schaefer100_timeseries.tsv");
    QCOMPARE(result[0].emptyRois.size(), std::size_t(1));  // ROI 1, all NaN
    QCOMPARE(result[0].emptyRois.front(), ts.roiNames.front());
    // Each ROI's mean over its finite values, computed here.
    double worst = 0;
    for (int r = 1; r < 100; ++r)
      for (int t = 0; t < 24; ++t) {
        double sum = 0;
        int count = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (bold_.labels[i] == r + 1 && std::isfinite(vol.data[static_cast<std::size_t>(t) * n + i])) {
            sum += vol.data[static_cast<std::size_t>(t) * n + i];
            ++count;
          }
        worst = std::max(worst, std::abs(ts.series(t, r) - sum / count) / std::max(1.0, std::abs(sum / count)));
      }
    QVERIFY2(worst < 1e-5, std::to_string(worst).c_str());
    QVERIFY(ts.series.allFinite());
    // Half of every ROI's voxels NaN: no ROI left whole, the scan is refused with the count.
    for (std::size_t i = 0; i < n; ++i)
      if (bold_.labels[i] > 0 && bold_.labels[i] % 2 == 0)
        for (int t = 0; t < 24; ++t) vol.data[static_cast<std::size_t>(t) * n + i] = std::numeric_limits<float>::quiet_NaN();
    writeNiftiFloat(file, vol.header, vol.data.data());
    req.outDir = dir_ / "nan-out-2";
    try {
      runConnectome(reg, req, p);
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Data);
      QVERIFY2(std::string(e.what()).find("NaN or infinite") != std::string::npos && std::string(e.what()).find("nan_bold.nii.gz") != std::string::npos,
               e.what());
    }
    QVERIFY(!std::filesystem::exists(req.outDir / "schaefer100_fc.npy"));
  }

  void pipelineWritesContractFiles() {
    const auto reg = registry();
    ConnectomeRequest req;
    req.bold = dir_ / "synthetic_bold.nii.gz";
    req.atlases = {"schaefer100", "aal116"};
    req.outDir = dir_ / "out";
    req.options.clean = false;
    NullProgress p;
    const auto result = runConnectome(reg, req, p);
    QCOMPARE(result.size(), std::size_t(2));
    const auto fc = readNpy(req.outDir / "schaefer100_fc.npy");
    QCOMPARE(fc.rows(), Eigen::Index(100));
    const auto ts = readRoiTimeSeries(req.outDir / "schaefer100_timeseries.tsv");
    QCOMPARE(ts.series.rows(), Eigen::Index(24));
    QCOMPARE(ts.roiNames.front(), std::string("7Networks_LH_Vis_1"));
    // fc.npy is float32 Pearson of the written series.
    const auto again = pearson(ts.series).matrix;
    QVERIFY((fc - again).cwiseAbs().maxCoeff() < 2e-4);  // the TSV keeps 7 significant digits
    QVERIFY(std::filesystem::exists(req.outDir / "aal116_qc.json"));
    // No staging folder is left.
    for (const auto& e : std::filesystem::directory_iterator(req.outDir)) QVERIFY(e.path().filename().string()[0] != '.');
  }

  void oneStreamingPassMatchesSeparateRuns() {
    const auto reg = registry();
    // Signal in every voxel, outside the atlases too (label 0 becomes one more ROI): a voxel one
    // atlas leaves unassigned must not reach another atlas's ROIs in the shared pass.
    auto labels = readNiftiVolume(registry().volumeFile("schaefer100"));
    for (auto& v : labels.data)
      if (v == 0.0f) v = 101.0f;
    const auto bold = dir_ / "bold_everywhere.nii.gz";
    bgtest::writeSyntheticBold(bold, labels, 12, 2.0, 3.0, 11);
    const auto header = readNiftiHeader(bold);
    AtlasResampler resampler(reg);
    const auto grid = ScanGrid::of(header);
    NullProgress p;
    const std::vector<std::string> ids = {"schaefer200", "power264", "aal116"};
    std::vector<LabelMap> maps;
    for (const auto& id : ids) maps.push_back(resampler.map(id, grid));
    RoiExtractor all(maps);
    const auto together = all.extract(bold, p);
    for (std::size_t a = 0; a < ids.size(); ++a) {
      RoiExtractor alone({resampler.map(ids[a], grid)});
      const auto separate = alone.extract(bold, p);
      QCOMPARE(together[a].series.cols(), separate[0].series.cols());
      QVERIFY2((together[a].series - separate[0].series).cwiseAbs().maxCoeff() < 1e-9, ids[a].c_str());
    }
  }

  // Median (an even voxel count: the mean of the two middle values), first principal component and
  // tSNR against direct computations on a toy scan: ROI 0 has four voxels, ROI 1 two.
  void roiSummariesMatchDirectComputation() {
    const int T = 9, V = 6;
    NiftiHeader h;
    h.ndim = 4;
    h.dim = {V, 1, 1, T};
    h.pixdim = {2, 2, 2, 2};
    h.repetitionTime = 2.0;
    h.voxelToWorld.diagonal() << 2, 2, 2, 1;
    std::vector<float> data(static_cast<std::size_t>(V * T));
    Eigen::MatrixXd x(T, V);  // what each voxel holds
    for (int t = 0; t < T; ++t)
      for (int v = 0; v < V; ++v) {
        x(t, v) = 100.0 + 7.0 * std::sin(0.9 * t + v) + 3.0 * ((t * 7 + v * 5) % 11) + (v == 2 ? 0.5 * t * t : 0.0);
        data[static_cast<std::size_t>(t * V + v)] = static_cast<float>(x(t, v));
        x(t, v) = data[static_cast<std::size_t>(t * V + v)];  // as stored (float32)
      }
    const auto file = dir_ / "toy_summaries.nii";
    writeNiftiFloat(file, h, data.data());
    LabelMap map;
    map.atlasId = "toy";
    map.rois.resize(2);
    map.rois[0].index = 1;
    map.rois[1].index = 2;
    map.roiOfVoxel = {0, 0, 0, 0, 1, 1};
    map.voxelsPerRoi = {4, 2};
    map.roiVolumeMm3 = {32, 16};
    NullProgress p;
    const auto median = RoiExtractor({map}, RoiSummary::Median).extract(file, p)[0];
    const auto pc1 = RoiExtractor({map}, RoiSummary::FirstPrincipalComponent).extract(file, p)[0];
    const auto mean = RoiExtractor({map}, RoiSummary::Mean).extract(file, p)[0];
    const std::vector<std::vector<int>> members = {{0, 1, 2, 3}, {4, 5}};
    for (int r = 0; r < 2; ++r) {
      const auto& m = members[static_cast<std::size_t>(r)];
      Eigen::MatrixXd X(T, static_cast<Eigen::Index>(m.size()));
      for (std::size_t c = 0; c < m.size(); ++c) X.col(static_cast<Eigen::Index>(c)) = x.col(m[c]);
      for (int t = 0; t < T; ++t) {
        std::vector<double> v;
        for (Eigen::Index c = 0; c < X.cols(); ++c) v.push_back(X(t, c));
        std::sort(v.begin(), v.end());
        const double expected = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
        QVERIFY2(std::fabs(median.series(t, r) - expected) < 1e-9, qPrintable(QStringLiteral("median roi %1 t %2").arg(r).arg(t)));
        QVERIFY(std::fabs(mean.series(t, r) - X.row(t).mean()) < 1e-9);
      }
      // PC1 by SVD of the voxel-centred series: u1 * s1 / sqrt(n), signed like the centred mean.
      const Eigen::MatrixXd Xc = X.rowwise() - X.colwise().mean();
      Eigen::JacobiSVD<Eigen::MatrixXd> svd(Xc, Eigen::ComputeThinU);
      Eigen::VectorXd u = svd.matrixU().col(0) * svd.singularValues()(0) / std::sqrt(static_cast<double>(m.size()));
      const Eigen::VectorXd mc = X.rowwise().mean().array() - X.rowwise().mean().mean();
      if (u.dot(mc) < 0) u = -u;
      QVERIFY2((pc1.series.col(r) - u).cwiseAbs().maxCoeff() < 1e-6, qPrintable(QStringLiteral("pc1 roi %1").arg(r)));
      // tSNR of the mean series: its mean over its sample standard deviation.
      const Eigen::VectorXd s = X.rowwise().mean();
      const double sd = std::sqrt((s.array() - s.mean()).square().sum() / (T - 1));
      QVERIFY2(std::fabs(mean.tsnr[static_cast<std::size_t>(r)] - s.mean() / sd) < 1e-9 * (s.mean() / sd), qPrintable(QString::number(mean.tsnr[0])));
    }
  }

  void orientationPhantomRasAndLas() {
    // Left hemisphere (x < 0 mm) carries signal A, right hemisphere signal B. The scan is written once
    // stored RAS and once stored LAS; Schaefer (RAS) and AAL116 (LAS) must put each ROI's signal on its side.
    const auto reg = registry();
    const auto mask = readNiftiVolume(reg.resolve(reg.get("mni152").files.at("brain_mask_2mm")));
    const int T = 16;
    Eigen::VectorXd a(T), b(T);
    for (int t = 0; t < T; ++t) {
      a(t) = std::sin(0.7 * t);
      b(t) = std::cos(1.3 * t) + 0.3 * t;
    }
    for (const bool las : {false, true}) {
      NiftiHeader h = mask.header;
      h.ndim = 4;
      h.dim[3] = T;
      h.repetitionTime = 2.0;
      if (las) {  // flip the voxel order along x and say so in the affine
        h.voxelToWorld.col(0) = -h.voxelToWorld.col(0);
        h.voxelToWorld(0, 3) = -h.voxelToWorld(0, 3);
      }
      const auto& d = h.dim;
      const auto n = static_cast<std::size_t>(h.voxelsPerVolume());
      std::vector<float> data(n * T, 0.0f);
      for (std::int64_t k = 0; k < d[2]; ++k)
        for (std::int64_t j = 0; j < d[1]; ++j)
          for (std::int64_t i = 0; i < d[0]; ++i) {
            const Eigen::Vector4d w = h.voxelToWorld * Eigen::Vector4d(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k), 1);
            // the mask's own voxel at this world position
            const Eigen::Vector4d mv = mask.header.voxelToWorld.inverse() * w;
            if (mask.at(std::lround(mv(0)), std::lround(mv(1)), std::lround(mv(2))) == 0) continue;
            if (std::fabs(w(0)) < 1.0) continue;
            const auto idx = static_cast<std::size_t>((k * d[1] + j) * d[0] + i);
            for (int t = 0; t < T; ++t) data[static_cast<std::size_t>(t) * n + idx] = static_cast<float>(100.0 + (w(0) < 0 ? a(t) : b(t)));
          }
      const auto file = dir_ / (las ? "phantom_las.nii" : "phantom_ras.nii");
      writeNiftiFloat(file, h, data.data());
      AtlasResampler resampler(reg);
      const auto grid = ScanGrid::of(readNiftiHeader(file));
      RoiExtractor ex({resampler.map("schaefer100", grid), resampler.map("aal116", grid)});
      NullProgress p;
      const auto sig = ex.extract(file, p);
      int checked = 0, lateral = 0;
      for (std::size_t s = 0; s < 2; ++s) {
        const auto& map = ex.maps()[s];
        const auto& rois = map.rois;
        // Each ROI's centroid x on the scan grid, to tell lateral ROIs from midline ones.
        std::vector<double> cx(rois.size(), 0.0);
        for (std::size_t v = 0; v < map.roiOfVoxel.size(); ++v) {
          if (map.roiOfVoxel[v] < 0) continue;
          const auto i = static_cast<std::int64_t>(v) % d[0];
          cx[static_cast<std::size_t>(map.roiOfVoxel[v])] += (h.voxelToWorld * Eigen::Vector4d(static_cast<double>(i), 0, 0, 1))(0);
        }
        for (std::size_t r = 0; r < rois.size(); ++r) {
          if (sig[s].voxels[r] < 5 || (rois[r].hemisphere != "L" && rois[r].hemisphere != "R")) continue;
          cx[r] /= static_cast<double>(sig[s].voxels[r]);
          const Eigen::VectorXd col = sig[s].series.col(static_cast<Eigen::Index>(r));
          const double ca = bruteCorr(col, a), cb = bruteCorr(col, b);
          const std::string what = rois[r].name + (las ? " (scan stored LAS)" : " (scan stored RAS)");
          // Every ROI leans to its own side; lateral ones carry their side's signal alone.
          if (rois[r].hemisphere == "L")
            QVERIFY2(ca > cb && cx[r] < 0, what.c_str());
          else
            QVERIFY2(cb > ca && cx[r] > 0, what.c_str());
          if (std::fabs(cx[r]) > 10) {
            QVERIFY2((rois[r].hemisphere == "L" ? ca : cb) > 0.99, what.c_str());
            ++lateral;
          }
          ++checked;
        }
      }
      QVERIFY(checked > 200);
      QVERIFY(lateral > 150);
    }
  }

  void powerSpheresMatchBruteForce() {
    const auto reg = registry();
    const auto mask = readNiftiVolume(reg.resolve(reg.get("mni152").files.at("brain_mask_2mm")));
    const auto grid = ScanGrid::of(mask.header);
    AtlasResampler resampler(reg);
    const auto map = resampler.map("power264", grid);
    const auto labels = reg.labels("power264");
    // Brute force: every voxel goes to the nearest centre within 5 mm.
    const auto& d = grid.dim;
    std::vector<std::int64_t> count(264, 0);
    std::int64_t mismatches = 0;
    for (std::int64_t k = 0; k < d[2]; ++k)
      for (std::int64_t j = 0; j < d[1]; ++j)
        for (std::int64_t i = 0; i < d[0]; ++i) {
          const Eigen::Vector4d w = grid.voxelToWorld * Eigen::Vector4d(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k), 1);
          int best = -1;
          double bestD = 5.0 + 1e-9;
          for (int r = 0; r < 264; ++r) {
            const auto& c = *labels[static_cast<std::size_t>(r)].mni;
            const double dd = std::sqrt(std::pow(w(0) - c[0], 2) + std::pow(w(1) - c[1], 2) + std::pow(w(2) - c[2], 2));
            if (dd <= bestD && (best < 0 || dd < bestD)) {
              bestD = dd;
              best = r;
            }
          }
          const auto idx = static_cast<std::size_t>((k * d[1] + j) * d[0] + i);
          if (best >= 0) ++count[static_cast<std::size_t>(best)];
          if (map.roiOfVoxel[idx] != best) ++mismatches;
        }
    QCOMPARE(mismatches, std::int64_t(0));
    for (int r = 0; r < 264; ++r) QCOMPARE(map.voxelsPerRoi[static_cast<std::size_t>(r)], count[static_cast<std::size_t>(r)]);
    // A 5 mm sphere on a 2 mm grid holds at most 81 voxels (centre on a voxel) and about 60 when off-grid.
    for (auto c : map.voxelsPerRoi) QVERIFY(c <= 81 && c >= 30);
  }

  void abideTimeSeriesImport() {
    const auto dir = bgtest::dataRoot() / "data/abide1-cc200/rois_cc200";
    int files = 0, flaggedFiles = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().filename().string().find(".1D.gz") == std::string::npos) continue;
      const auto ts = readRoiTimeSeries(e.path());
      ++files;
      QCOMPARE(ts.series.cols(), Eigen::Index(200));
      QVERIFY(ts.series.rows() >= 78 && ts.series.rows() <= 316);
      QCOMPARE(ts.roiNames.front(), std::string("1"));
      if (!ts.allZeroColumns.empty()) ++flaggedFiles;
      if (files % 50 == 1) {
        // Independent check with zlib and a plain parser.
        gzFile gz = gzopen(e.path().c_str(), "rb");
        std::string text;
        char buf[65536];
        int n;
        while ((n = gzread(gz, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
        gzclose(gz);
        std::istringstream in(text);
        std::string line;
        std::getline(in, line);  // header
        std::vector<double> colSum(200, 0.0);
        int rows = 0;
        while (std::getline(in, line)) {
          if (line.empty()) continue;
          std::istringstream ls(line);
          for (int c = 0; c < 200; ++c) {
            double v;
            ls >> v;
            colSum[static_cast<std::size_t>(c)] += std::fabs(v);
            if (rows == 5 && c == 17) QCOMPARE(ts.series(5, 17), v);
          }
          ++rows;
        }
        QCOMPARE(static_cast<Eigen::Index>(rows), ts.series.rows());
        std::vector<int> zero;
        for (int c = 0; c < 200; ++c)
          if (colSum[static_cast<std::size_t>(c)] == 0.0) zero.push_back(c);
        QCOMPARE(ts.allZeroColumns, zero);
      }
    }
    QCOMPARE(files, 739);
    QVERIFY(flaggedFiles > 0);
    qInfo("%d of %d ABIDE files have all-zero ROI columns", flaggedFiles, files);
  }

  void timeseries2graphWithLabels() {
    TimeSeriesRequest req;
    req.input = bgtest::dataRoot() / "data/abide1-cc200/rois_cc200/CMU_a_0050642_rois_cc200.1D.gz";
    req.id = "cc200";
    req.labelVolume = bgtest::dataRoot() / "data/abide1-cc200/atlas/CC200.nii.gz";
    req.outDir = dir_ / "ts2g";
    req.options.clean = false;
    NullProgress p;
    const auto s = runTimeSeriesToGraph(req, p);
    QCOMPARE(s.rois, 200);
    QVERIFY(std::filesystem::exists(req.outDir / "cc200_adjacency.npy"));
    QVERIFY(std::filesystem::exists(req.outDir / "cc200_rwse.npy"));
    std::ifstream qc(req.outDir / "cc200_qc.json");
    std::string text((std::istreambuf_iterator<char>(qc)), std::istreambuf_iterator<char>());
    QVERIFY(text.find("centroids_mni") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestConnectome)
#include "test_connectome.moc"
