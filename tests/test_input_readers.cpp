// What the fuzzers found in the time-series and configuration readers (tests/fuzz), kept as
// regressions: each input is refused with a bg::Error that names the problem, never a library
// exception, an undefined conversion or an allocation of what a header promises.
#include <QTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "TestSupport.h"
#include "errors/Error.h"
#include "io/ByteStream.h"
#include "io/JsonText.h"
#include "io/TimeSeriesFile.h"
#include "train/TrainingConfig.h"

using namespace bg;
using nlohmann::json;

namespace {

std::string npyBytes(const std::string& descr, const std::string& shape, const std::string& payload) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append(63 - (10 + header.size()) % 64, ' ');
  header.push_back('\n');
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + payload;
}

std::string doubles(std::initializer_list<double> values) {
  std::string out;
  for (double v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

RoiTimeSeries readBytes(const std::string& bytes, const std::string& name) {
  auto in = openMemoryStream(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return readRoiTimeSeries(*in, name);
}

// The message of the bg::Error `f` throws ("" when it throws none, "foreign" for any other exception).
template <class F>
std::string refusal(F f, ErrorCode expected = ErrorCode::Config) {
  try {
    f();
  } catch (const Error& e) {
    return e.code() == expected ? std::string(e.what()) : "wrong code: " + std::string(e.what());
  } catch (const std::exception& e) {
    return std::string("foreign: ") + e.what();
  }
  return "";
}

}  // namespace

class TestInputReaders : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void npyTimeSeriesReadsBackItsValues() {
    const auto ts = readBytes(npyBytes("<f8", "(2, 3)", doubles({1, 2, 3, 4, 5, 6.5})), "a.npy");
    QCOMPARE(ts.series.rows(), 2);
    QCOMPARE(ts.series.cols(), 3);
    QCOMPARE(ts.series(1, 2), 6.5);
    QCOMPARE(ts.roiNames.size(), std::size_t(3));
  }

  void npyNonFiniteValuesAreRefused() {
    // Found by fuzz_timeseries: the text formats refused NaN, the .npy reader passed it on.
    const auto m = refusal([] { readBytes(npyBytes("<f8", "(2, 2)", doubles({1, std::nan(""), 3, 4})), "sub-1.npy"); }, ErrorCode::Data);
    QVERIFY2(m.find("sub-1.npy") != std::string::npos && m.find("time point 1, column 2 is not finite") != std::string::npos, m.c_str());
    const auto inf = refusal([] { readBytes(npyBytes("<f8", "(1, 2)", doubles({std::numeric_limits<double>::infinity(), 0})), "i.npy"); }, ErrorCode::Data);
    QVERIFY2(inf.find("not finite") != std::string::npos, inf.c_str());
  }

  void npyMalformedHeadersAreRefused() {
    auto m = refusal([] { readBytes(npyBytes("<f8", "(a, 2)", doubles({1, 2})), "s.npy"); }, ErrorCode::Data);
    QVERIFY2(m.find("not a size") != std::string::npos, m.c_str());
    m = refusal([] { readBytes(npyBytes("<q9", "(1,)", ""), "d.npy"); }, ErrorCode::Data);
    QVERIFY2(m.find("unsupported .npy dtype") != std::string::npos, m.c_str());
    // A shape of 2^31 values over 16 bytes of data: the end of the data, not a 16 GB allocation.
    m = refusal([] { readBytes(npyBytes("<f8", "(65536, 32768)", doubles({1, 2})), "big.npy"); }, ErrorCode::Data);
    QVERIFY2(m.find("the .npy data") != std::string::npos, m.c_str());
    m = refusal([] { readBytes(npyBytes("<f8", "(0, 100000000)", ""), "empty.npy"); }, ErrorCode::Data);
    QVERIFY2(m.find("0 time points and 100000000 ROIs: nothing to read") != std::string::npos, m.c_str());
    // A header of binary bytes is quoted shortened and printable.
    std::string header = npyBytes(std::string("\x01\x02<f8xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 60), "(1,)", doubles({1}));
    m = refusal([&] { readBytes(header, "b.npy"); }, ErrorCode::Data);
    QVERIFY2(m.find('\x01') == std::string::npos && m.find("...") != std::string::npos, m.c_str());
  }

  void textTimeSeriesStillRefusesRaggedRows() {
    const auto m = refusal([] { readBytes("1 2 3\n4 5\n", "r.1D"); }, ErrorCode::Data);
    QVERIFY2(m.find("line 2 has 2 columns") != std::string::npos && m.find("r.1D") != std::string::npos, m.c_str());
  }

  void numberOverflowInJsonIsAConfigurationError() {
    // Found by fuzz_config: nlohmann throws out_of_range (not parse_error) for 1e999.
    const auto m = refusal([] { parseJsonText(R"({"epochs": 1e999})", "configuration big.json"); });
    QVERIFY2(m.find("configuration big.json is not valid JSON") != std::string::npos && m.find("number overflow") != std::string::npos, m.c_str());
  }

  void configurationValuesOfTheWrongKindAreRefused() {
    using train::PretrainConfig;
    using train::TuningConfig;
    const std::pair<const char*, const char*> tuning[] = {
        {R"({"epochs": 1e300})", "'epochs' must be a whole number"},  // was an undefined float-to-int conversion
        {R"({"epochs": 2.5})", "'epochs' must be a whole number"},
        {R"({"epochs": null})", "'epochs' must be a whole number, not null"},  // was nlohmann's type_error
        {R"({"seed": -1})", "'seed' must be a whole number, 0 or more"},
        {R"({"batch_size": 4294967296})", "'batch_size' is out of range"},
        {R"({"model": {"heads": 0}})", "BrainGFM sizes must be positive"},  // was a division by zero
        {R"({"model": {"hidden": 30, "heads": 4}})", "multiple of the number of heads"},
        {R"({"model": {"dropout": 1.5}})", "dropout must be in [0, 1)"},
        {R"({"adaptation": {"method": "lora", "lora_rank": 0}})", "lora_rank and prefix_length must be at least 1"},
        {R"({"adaptation": {"lora_rnk": 2}})", "did you mean 'lora_rank'?"},
        {R"({"input": {"kind": true}})", "'kind' must be a string"},  // was nlohmann's type_error
        {R"({"input": {"knd": "fc"}})", "did you mean 'kind'?"},
    };
    for (const auto& [text, expected] : tuning) {
      const auto m = refusal([&] { TuningConfig::fromJson(json::parse(text)); });
      QVERIFY2(m.find(expected) != std::string::npos, (std::string(text) + " -> " + m).c_str());
    }
    const std::pair<const char*, const char*> pretraining[] = {
        {R"({"mask_ratio": [0.3]})", "'mask_ratio' is [start, end]"},  // was json out_of_range
        {R"({"mask_ratio": ["a", 0.1]})", "'mask_ratio' must be a list of numbers"},
        {R"({"edge_drop": [0.1, 2]})", "shares in [0, 1]"},
    };
    for (const auto& [text, expected] : pretraining) {
      const auto m = refusal([&] { PretrainConfig::fromJson(json::parse(text)); });
      QVERIFY2(m.find(expected) != std::string::npos, (std::string(text) + " -> " + m).c_str());
    }
    const std::pair<const char*, const char*> zoo[] = {
        {R"({"epochs": "3"})", "'epochs' must be a whole number"},  // was nlohmann's type_error
        {R"({"learning_rate": -1})", "must be positive"},
        {R"({"model": {"hidden": 0}})", "must be positive"},
        {R"({"momentm": 0.9})", "did you mean 'momentum'?"},
    };
    for (const auto& [text, expected] : zoo) {
      const auto m = refusal([&] { train::ZooPretrainConfig::fromJson("brainmass", json::parse(text)); });
      QVERIFY2(m.find(expected) != std::string::npos, (std::string(text) + " -> " + m).c_str());
    }
  }

  void shippedConfigurationsReadBackFromWhatTheyWrite() {
    // The property fuzz_config checks on every accepted input, here on the configurations we ship.
    int read = 0;
    for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(BRAINGRAPH_TEST_MANIFESTS) / ".." / "resources" / "configs")) {
      if (f.path().filename() == "model-zoo-compare.json") continue;  // a comparison plan, not one configuration
      std::ifstream in(f.path());
      const auto j = parseJsonText(std::string(std::istreambuf_iterator<char>(in), {}), f.path().string());
      if (f.path().filename().string().find("pretrain") != std::string::npos) {
        const auto c = train::PretrainConfig::fromJson(j);
        QCOMPARE(QString::fromStdString(train::PretrainConfig::fromJson(c.toJson()).toJson().dump()), QString::fromStdString(c.toJson().dump()));
      } else {
        const auto c = train::TuningConfig::fromJson(j);
        QCOMPARE(QString::fromStdString(train::TuningConfig::fromJson(c.toJson()).toJson().dump()), QString::fromStdString(c.toJson().dump()));
      }
      ++read;
    }
    QVERIFY(read >= 6);
  }
};

QTEST_APPLESS_MAIN(TestInputReaders)
#include "test_input_readers.moc"
