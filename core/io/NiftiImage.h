#pragma once
// NIfTI-1/-2 volumes (.nii, .nii.gz) read through nifti_clib.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace bg {

struct NiftiHeader {
  int niftiVersion = 1;  // 1 or 2
  int ndim = 0;
  std::array<std::int64_t, 4> dim{1, 1, 1, 1};  // nx, ny, nz, nt
  std::array<double, 4> pixdim{1, 1, 1, 1};     // mm, mm, mm, seconds
  int datatype = 0;                             // NIFTI_TYPE_* code
  double sclSlope = 1.0, sclInter = 0.0;
  int qformCode = 0, sformCode = 0;
  // Voxel (i, j, k, 1) -> world (x, y, z, 1) in RAS mm: sform when its code is set, else qform, else pixdim.
  Eigen::Matrix4d voxelToWorld = Eigen::Matrix4d::Identity();
  double repetitionTime = 0.0;         // seconds (time units converted); 0 when unknown
  bool repetitionTimeGuessed = false;  // pixdim[4] > 100 "s" was read as milliseconds

  std::int64_t voxelsPerVolume() const { return dim[0] * dim[1] * dim[2]; }
  std::int64_t volumes() const { return dim[3]; }
  std::string shapeString() const;
};

struct NiftiVolume {
  NiftiHeader header;
  std::vector<float> data;  // scaled values; x fastest, then y, z, t

  float at(std::int64_t i, std::int64_t j, std::int64_t k, std::int64_t t = 0) const {
    const auto& d = header.dim;
    return data[static_cast<std::size_t>(((t * d[2] + k) * d[1] + j) * d[0] + i)];
  }
};

class ByteStream;

// Streams a NIfTI file one 3D volume at a time: the whole 4D array is never in memory.
// Errors are bg::Error naming the file and the problem (missing, truncated, unsupported...).
class NiftiReader {
 public:
  explicit NiftiReader(const std::filesystem::path& path);
  // Reads from any byte stream (memory, fuzzing); `name` is used in messages.
  NiftiReader(std::unique_ptr<ByteStream> stream, const std::string& name);
  ~NiftiReader();
  const NiftiHeader& header() const { return header_; }
  // Reads the next volume as scaled float32 into out (voxelsPerVolume values).
  // Returns false when every volume has been read.
  bool readVolume(float* out);
  std::int64_t volumesRead() const { return volumesRead_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<ByteStream> stream_;
  NiftiHeader header_;
  int bytesPerVoxel_ = 0;
  bool swapBytes_ = false;
  std::int64_t volumesRead_ = 0;
  std::vector<unsigned char> raw_;
  void readHeader(std::uint64_t knownFileSize);
};

NiftiHeader readNiftiHeader(const std::filesystem::path& path);
// Reads every volume (use NiftiReader for large 4D files).
NiftiVolume readNiftiVolume(const std::filesystem::path& path);

// Writes a 3D or 4D float32 NIfTI-1 file (.nii or .nii.gz by the name) atomically.
void writeNiftiFloat(const std::filesystem::path& path, const NiftiHeader& geometry, const float* data);

}  // namespace bg
