#include "io/TimeSeriesFile.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "io/ByteStream.h"
#include "io/Npy.h"

namespace bg {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string readAllText(ByteStream& in) {
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const std::size_t n = in.read(buf, sizeof buf);
    if (n == 0) break;
    text.append(buf, n);
  }
  return text;
}

std::vector<std::string> splitFields(const std::string& line, char delim) {
  std::vector<std::string> out;
  if (delim == ' ') {  // any run of spaces or tabs
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      if (j > i) out.push_back(line.substr(i, j - i));
      i = j;
    }
    return out;
  }
  std::string cur;
  for (char c : line) {
    if (c == delim) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

RoiTimeSeries parseText(const std::string& text, char delim, bool afni, const std::filesystem::path& path) {
  RoiTimeSeries ts;
  std::vector<std::vector<double>> rows;
  std::size_t lineNo = 0, start = 0;
  bool headerSeen = false;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++lineNo;
    if (line.find_first_not_of(" \t") == std::string::npos) {
      if (end == text.size()) break;
      continue;
    }
    if (afni && line[line.find_first_not_of(" \t")] == '#') {
      // "#1 #2 ..." names the columns; other comment lines are skipped.
      if (!headerSeen && rows.empty()) {
        std::string h = line;
        for (auto& c : h)
          if (c == '#') c = ' ';
        ts.roiNames = splitFields(h, ' ');
        headerSeen = !ts.roiNames.empty();
      }
      continue;
    }
    auto fields = splitFields(line, delim);
    if (!afni && !headerSeen && rows.empty()) {
      // CSV/TSV: the first row is a header when any field is not a number.
      bool numeric = true;
      for (const auto& f : fields) {
        char* e = nullptr;
        std::strtod(f.c_str(), &e);
        numeric = numeric && e && *e == '\0' && !f.empty();
      }
      if (!numeric) {
        ts.roiNames = fields;
        headerSeen = true;
        continue;
      }
    }
    std::vector<double> row;
    row.reserve(fields.size());
    for (const auto& f : fields) {
      char* e = nullptr;
      const double v = std::strtod(f.c_str(), &e);
      if (f.empty() || !e || *e != '\0') throw Error(ErrorCode::Data, fmt::format("line {}: '{}' is not a number", lineNo, f));
      if (!std::isfinite(v)) throw Error(ErrorCode::Data, fmt::format("line {}: value '{}' is not finite", lineNo, f));
      row.push_back(v);
    }
    if (!rows.empty() && row.size() != rows.front().size())
      throw Error(ErrorCode::Data, fmt::format("line {} has {} columns, the first data line {}", lineNo, row.size(), rows.front().size()));
    rows.push_back(std::move(row));
    if (end == text.size()) break;
  }
  if (rows.empty()) throw Error(ErrorCode::Data, "no data rows");
  const auto T = static_cast<Eigen::Index>(rows.size()), N = static_cast<Eigen::Index>(rows.front().size());
  ts.series.resize(T, N);
  for (Eigen::Index t = 0; t < T; ++t)
    for (Eigen::Index r = 0; r < N; ++r) ts.series(t, r) = rows[static_cast<std::size_t>(t)][static_cast<std::size_t>(r)];
  if (!ts.roiNames.empty() && static_cast<Eigen::Index>(ts.roiNames.size()) != N)
    throw Error(ErrorCode::Data, fmt::format("the header names {} columns, the data has {}", ts.roiNames.size(), N));
  (void)path;
  return ts;
}

}  // namespace

RoiTimeSeries readRoiTimeSeries(const std::filesystem::path& path) {
  auto in = withContext("while reading time series " + path.string(), [&] { return openByteStream(path); });
  return readRoiTimeSeries(*in, path);
}

RoiTimeSeries readRoiTimeSeries(ByteStream& in, const std::filesystem::path& path) {
  return withContext("while reading time series " + path.string(), [&] {
    std::string name = lower(path.filename().string());
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) name.resize(name.size() - 3);
    RoiTimeSeries ts;
    auto ends = [&](const char* ext) {
      const std::string e(ext);
      return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
    };
    if (ends(".npy")) {
      ts.series = npyMatrix(readNpyArray(in, path.string()), path.string());
    } else if (ends(".1d") || ends(".txt")) {
      ts = parseText(readAllText(in), ' ', true, path);
    } else if (ends(".csv")) {
      ts = parseText(readAllText(in), ',', false, path);
    } else if (ends(".tsv")) {
      ts = parseText(readAllText(in), '\t', false, path);
    } else {
      throw Error(ErrorCode::Usage, "unknown time-series format (use .1D, .1D.gz, .csv, .tsv or .npy)");
    }
    ts.source = path;
    // Found by fuzz_timeseries: a .npy of shape (0, 10^8) held no values and asked for 10^8 ROI names.
    if (ts.series.rows() == 0 || ts.series.cols() == 0)
      throw Error(ErrorCode::Data, fmt::format("the array has {} time points and {} ROIs: nothing to read", ts.series.rows(), ts.series.cols()));
    // The text formats refuse non-finite values as they parse; a binary .npy can hold them too.
    for (Eigen::Index t = 0; t < ts.series.rows(); ++t)
      for (Eigen::Index r = 0; r < ts.series.cols(); ++r)
        if (!std::isfinite(ts.series(t, r)))
          throw Error(ErrorCode::Data, fmt::format("time point {}, column {} is not finite ({})", t + 1, r + 1, ts.series(t, r)));
    if (ts.roiNames.empty())
      for (Eigen::Index r = 0; r < ts.series.cols(); ++r) ts.roiNames.push_back("roi_" + std::to_string(r + 1));
    for (Eigen::Index r = 0; r < ts.series.cols(); ++r)
      if ((ts.series.col(r).array() == 0.0).all()) ts.allZeroColumns.push_back(static_cast<int>(r));
    return ts;
  });
}

void writeTimeSeriesTsv(const std::filesystem::path& path, const Eigen::MatrixXd& series, const std::vector<std::string>& names) {
  writeFileAtomically(path, [&](std::ostream& out) {
    for (std::size_t i = 0; i < names.size(); ++i) out << (i ? "\t" : "") << names[i];
    out << "\n";
    fmt::memory_buffer line;
    for (Eigen::Index t = 0; t < series.rows(); ++t) {
      line.clear();
      for (Eigen::Index r = 0; r < series.cols(); ++r) {
        if (r) line.push_back('\t');
        fmt::format_to(std::back_inserter(line), "{:.7g}", series(t, r));
      }
      line.push_back('\n');
      out.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
  });
}

}  // namespace bg
