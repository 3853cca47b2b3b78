#pragma once
// A content-addressed store of float32 matrices (time series, FC, graphs) in
// <workspace>/arrays/<2 hex>/<hash>.bga. Each file is a 64-byte header (magic, shape,
// XXH3-64 checksum of the data) followed by row-major float32 data, so it can be
// memory-mapped as is. Files are written to a temporary name and renamed: a crash
// never leaves a half-written array under its real name.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <Eigen/Core>

namespace bg {

// A read-only, memory-mapped array.
class MappedArray {
 public:
  ~MappedArray();
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  const float* data() const { return data_; }
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> matrix() const { return {data_, rows_, cols_}; }

 private:
  friend class ArrayStore;
  MappedArray() = default;
  void* base_ = nullptr;
  std::size_t length_ = 0;
  const float* data_ = nullptr;
  std::int64_t rows_ = 0, cols_ = 0;
};

class ArrayStore {
 public:
  explicit ArrayStore(std::filesystem::path root);
  // Stores the matrix (as float32) and returns its hash; storing the same values again is free.
  std::string put(const Eigen::MatrixXd& m);
  std::string put(const float* rowMajor, std::int64_t rows, std::int64_t cols);
  // Maps the array; verifies the checksum unless told not to. Throws bg::Error(Data) naming the
  // file when it is truncated or its checksum does not match (corruption).
  std::unique_ptr<MappedArray> map(const std::string& hash, bool verify = true) const;
  Eigen::MatrixXd read(const std::string& hash) const;
  bool contains(const std::string& hash) const;
  std::filesystem::path pathOf(const std::string& hash) const;
  const std::filesystem::path& root() const { return root_; }

  // Test hook: a function called with each temporary file before it is renamed into place
  // (lets tests inject a failing writer, e.g. a full disk).
  static void setWriteHook(void (*hook)(const std::filesystem::path& tmp));

 private:
  std::filesystem::path root_;
};

}  // namespace bg
