#pragma once
// ROI time-series files: AFNI .1D (plain or gzip, optional "#1 #2 ..." header),
// CSV/TSV with a header row, and NumPy .npy. Rows are time points, columns ROIs.
#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace bg {

struct RoiTimeSeries {
  Eigen::MatrixXd series;             // time points x ROIs
  std::vector<std::string> roiNames;  // from the header ("#1" -> "1"), else "roi_1".."roi_N"
  std::vector<int> allZeroColumns;    // ROIs whose every value is 0 (outside the field of view)
  std::filesystem::path source;
};

// Format by extension (.1D, .1D.gz, .csv, .tsv, .txt, .npy). Throws bg::Error naming the file.
RoiTimeSeries readRoiTimeSeries(const std::filesystem::path& path);
// The same from a stream; the format comes from `name`'s extension (fuzzing, tests).
class ByteStream;
RoiTimeSeries readRoiTimeSeries(ByteStream& in, const std::filesystem::path& name);

// Writes time points x ROIs as TSV with a header of ROI names (atomic).
void writeTimeSeriesTsv(const std::filesystem::path& path, const Eigen::MatrixXd& series, const std::vector<std::string>& names);

}  // namespace bg
