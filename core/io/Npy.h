#pragma once
// NumPy .npy files (format version 1.0; little-endian float32/float64, C order).
#include <cstdint>
#include <filesystem>
#include <vector>

#include <Eigen/Core>

namespace bg {

// Writes a 2D matrix as float32 atomically (temporary file, then rename).
void writeNpyFloat32(const std::filesystem::path& path, const Eigen::MatrixXd& m);
// Reads a 1D or 2D float32/float64/int array (1D becomes a column); throws bg::Error naming the file.
Eigen::MatrixXd readNpy(const std::filesystem::path& path);

}  // namespace bg
