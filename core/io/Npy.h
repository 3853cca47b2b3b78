#pragma once
// NumPy .npy files (format version 1.0; little-endian float32/float64, C order).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace bg {

class ByteStream;

// Writes a 2D matrix as float32 atomically (temporary file, then rename).
void writeNpyFloat32(const std::filesystem::path& path, const Eigen::MatrixXd& m);
// Any number of dimensions, C order, values as double (float32/64, int16/32/64).
struct NpyArray {
  std::vector<long> shape;
  std::vector<double> values;
};
NpyArray readNpyArray(const std::filesystem::path& path);
// The same from a stream (`source` names it in messages).
NpyArray readNpyArray(ByteStream& in, const std::string& source);
Eigen::MatrixXd npyMatrix(const NpyArray& a, const std::string& source);
// Reads a 1D or 2D float32/float64/int array (1D becomes a column); throws bg::Error naming the file.
Eigen::MatrixXd readNpy(const std::filesystem::path& path);

}  // namespace bg
