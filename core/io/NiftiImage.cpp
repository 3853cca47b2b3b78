#include "io/NiftiImage.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>

#include <nifti/nifti2_io.h>

#include "errors/Error.h"
#include "io/ByteStream.h"

namespace bg {
namespace {

struct NiftiDeleter {
  void operator()(nifti_image* p) const { nifti_image_free(p); }
};
using NiftiPtr = std::unique_ptr<nifti_image, NiftiDeleter>;

void quietNiftiLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { nifti_set_debug_level(0); });
}

Eigen::Matrix4d toEigen(const nifti_dmat44& m) {
  Eigen::Matrix4d out;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) out(r, c) = m.m[r][c];
  return out;
}

NiftiHeader headerFrom(const nifti_image& nim, int version) {
  NiftiHeader h;
  h.niftiVersion = version;
  h.ndim = static_cast<int>(nim.ndim);
  h.dim = {nim.nx, nim.ny, nim.nz, h.ndim >= 4 ? nim.nt : 1};
  for (auto& d : h.dim) d = std::max<std::int64_t>(d, 1);
  h.pixdim = {nim.dx, nim.dy, nim.dz, nim.dt};
  h.datatype = nim.datatype;
  h.sclSlope = nim.scl_slope;
  h.sclInter = nim.scl_inter;
  h.qformCode = nim.qform_code;
  h.sformCode = nim.sform_code;
  // sform wins when set, then qform, then the pixel sizes alone (NIfTI's "method 1").
  if (nim.sform_code > 0) {
    h.voxelToWorld = toEigen(nim.sto_xyz);
  } else if (nim.qform_code > 0) {
    h.voxelToWorld = toEigen(nim.qto_xyz);
  } else {
    h.voxelToWorld = Eigen::Matrix4d::Identity();
    h.voxelToWorld(0, 0) = nim.dx;
    h.voxelToWorld(1, 1) = nim.dy;
    h.voxelToWorld(2, 2) = nim.dz;
  }
  if (h.ndim >= 4 && h.dim[3] > 1) {
    double tr = nim.dt;
    if (nim.time_units == NIFTI_UNITS_MSEC)
      tr /= 1000.0;
    else if (nim.time_units == NIFTI_UNITS_USEC)
      tr /= 1e6;
    // A "TR" of minutes is a header written in milliseconds but labelled seconds (e.g. nibabel's
    // example4d: pixdim[4] = 2000, units = s). No fMRI protocol has a TR above 100 s.
    if (tr > 100.0 && nim.time_units != NIFTI_UNITS_MSEC && nim.time_units != NIFTI_UNITS_USEC) {
      tr /= 1000.0;
      h.repetitionTimeGuessed = true;
    }
    h.repetitionTime = tr;
  }
  return h;
}

int bytesPerVoxel(int datatype) {
  switch (datatype) {
    case NIFTI_TYPE_UINT8:
    case NIFTI_TYPE_INT8:
      return 1;
    case NIFTI_TYPE_INT16:
    case NIFTI_TYPE_UINT16:
      return 2;
    case NIFTI_TYPE_INT32:
    case NIFTI_TYPE_UINT32:
    case NIFTI_TYPE_FLOAT32:
      return 4;
    case NIFTI_TYPE_INT64:
    case NIFTI_TYPE_UINT64:
    case NIFTI_TYPE_FLOAT64:
      return 8;
    default:
      return 0;
  }
}

template <class T>
void convert(const unsigned char* src, std::size_t n, double slope, double inter, float* out) {
  const bool scaled = slope != 0.0 && !(slope == 1.0 && inter == 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    out[i] = scaled ? static_cast<float>(static_cast<double>(v) * slope + inter) : static_cast<float>(v);
  }
}

}  // namespace

std::string NiftiHeader::shapeString() const {
  std::string s = std::to_string(dim[0]) + "x" + std::to_string(dim[1]) + "x" + std::to_string(dim[2]);
  if (ndim >= 4) s += "x" + std::to_string(dim[3]);
  return s;
}

NiftiReader::~NiftiReader() = default;

NiftiReader::NiftiReader(const std::filesystem::path& path) : path_(path) {
  withContext("while reading " + path.string(), [&] {
    quietNiftiLibrary();
    stream_ = openByteStream(path);
    // For an uncompressed file the size check is free; for gzip it happens while streaming.
    unsigned char magic[2] = {0, 0};
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
      if (std::fread(magic, 1, 2, f) != 2) magic[0] = 0;
      std::fclose(f);
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    const bool gz = magic[0] == 0x1f && magic[1] == 0x8b;
    readHeader(!gz && !ec ? size : 0);
  });
}

NiftiReader::NiftiReader(std::unique_ptr<ByteStream> stream, const std::string& name) : path_(name), stream_(std::move(stream)) {
  withContext("while reading " + name, [&] {
    quietNiftiLibrary();
    readHeader(0);
  });
}

void NiftiReader::readHeader(std::uint64_t knownFileSize) {
  unsigned char buf[540];
  stream_->readExactly(buf, 4, "the NIfTI header");
  std::int32_t sizeofHdr;
  std::memcpy(&sizeofHdr, buf, 4);
  std::int32_t swapped = static_cast<std::int32_t>(__builtin_bswap32(static_cast<std::uint32_t>(sizeofHdr)));
  int version = 0;
  if (sizeofHdr == 348 || swapped == 348)
    version = 1;
  else if (sizeofHdr == 540 || swapped == 540)
    version = 2;
  else
    throw Error(ErrorCode::Data, "not a NIfTI file (header size field is " + std::to_string(sizeofHdr) + ", expected 348 or 540)");
  swapBytes_ = (sizeofHdr != 348 && sizeofHdr != 540);
  const std::size_t hdrSize = version == 1 ? 348 : 540;
  stream_->readExactly(buf + 4, hdrSize - 4, "the NIfTI header");

  NiftiPtr nim;
  double voxOffset = 0;
  if (version == 1) {
    nifti_1_header h;
    std::memcpy(&h, buf, sizeof h);
    if (swapBytes_) swap_nifti_header(&h, 1);
    if (std::memcmp(h.magic, "n+1", 4) != 0) {
      if (std::memcmp(h.magic, "ni1", 4) == 0) throw Error(ErrorCode::Data, "two-file NIfTI (.hdr/.img) is not supported; convert it to .nii");
      throw Error(ErrorCode::Data, "not a single-file NIfTI-1 image (bad magic)");
    }
    if (!nifti_hdr1_looks_good(&h)) throw Error(ErrorCode::Data, "NIfTI-1 header is inconsistent (dimensions or datatype)");
    voxOffset = h.vox_offset;
    nim.reset(nifti_convert_n1hdr2nim(h, path_.c_str()));
  } else {
    nifti_2_header h;
    std::memcpy(&h, buf, sizeof h);
    if (swapBytes_) swap_nifti_header(&h, 2);
    if (std::memcmp(h.magic, "n+2", 4) != 0) throw Error(ErrorCode::Data, "not a single-file NIfTI-2 image (bad magic)");
    if (!nifti_hdr2_looks_good(&h)) throw Error(ErrorCode::Data, "NIfTI-2 header is inconsistent (dimensions or datatype)");
    voxOffset = static_cast<double>(h.vox_offset);
    nim.reset(nifti_convert_n2hdr2nim(h, path_.c_str()));
  }
  if (!nim) throw Error(ErrorCode::Data, "NIfTI header could not be interpreted");
  if (nim->nx < 1 || nim->ny < 1 || nim->nz < 1) throw Error(ErrorCode::Data, "header has empty dimensions");
  if (nim->ndim > 4 && (nim->nu > 1 || nim->nv > 1 || nim->nw > 1))
    throw Error(ErrorCode::Data, "5D and higher images are not supported (" + std::to_string(nim->ndim) + " dimensions)");
  header_ = headerFrom(*nim, version);
  bytesPerVoxel_ = bytesPerVoxel(header_.datatype);
  if (bytesPerVoxel_ == 0) throw Error(ErrorCode::Data, std::string("unsupported NIfTI datatype ") + nifti_datatype_string(header_.datatype));
  const auto voxels = header_.voxelsPerVolume();
  // One 3D volume must fit comfortably in memory (2 GiB of raw data, e.g. 1024^3 int16).
  if (voxels <= 0 || voxels * bytesPerVoxel_ > (std::int64_t(1) << 31)) throw Error(ErrorCode::Data, "implausible volume size " + header_.shapeString());
  if (!std::isfinite(voxOffset) || voxOffset > 1e9) throw Error(ErrorCode::Data, "implausible vox_offset in the header");  // NaN: found by fuzzing
  if (voxOffset < static_cast<double>(hdrSize)) voxOffset = static_cast<double>(hdrSize);
  if (voxOffset > 1e9) throw Error(ErrorCode::Data, "implausible vox_offset " + std::to_string(voxOffset));
  stream_->skip(static_cast<std::uint64_t>(voxOffset) - hdrSize, "the header extensions");

  const auto need = static_cast<std::uint64_t>(voxOffset) + static_cast<std::uint64_t>(voxels) * static_cast<std::uint64_t>(header_.volumes()) * bytesPerVoxel_;
  if (knownFileSize > 0 && knownFileSize < need)
    throw Error(ErrorCode::Data, "header/data size mismatch: " + header_.shapeString() + " " + nifti_datatype_string(header_.datatype) + " needs " +
                                     std::to_string(need) + " bytes, the file has " + std::to_string(knownFileSize));
}

bool NiftiReader::readVolume(float* out) {
  if (volumesRead_ >= header_.volumes()) return false;
  withContext("while reading " + path_.string(), [&] {
    // The buffer grows with the data actually read, so a header that promises a huge volume
    // over a short stream fails before allocating that much (found by fuzzing).
    const std::size_t need = static_cast<std::size_t>(header_.voxelsPerVolume()) * static_cast<std::size_t>(bytesPerVoxel_);
    std::size_t got = 0;
    while (got < need) {
      const std::size_t chunk = std::min<std::size_t>(need - got, std::size_t(16) << 20);
      if (raw_.size() < got + chunk) raw_.resize(got + chunk);
      const std::size_t k = stream_->read(raw_.data() + got, chunk);
      got += k;
      if (k < chunk) break;
    }
    if (got != need)
      throw Error(ErrorCode::Data, "header/data size mismatch: the header says " + header_.shapeString() + " but the data ends in volume " +
                                       std::to_string(volumesRead_ + 1) + " (truncated file?)");
    const auto n = static_cast<std::size_t>(header_.voxelsPerVolume());
    if (swapBytes_ && bytesPerVoxel_ > 1) nifti_swap_Nbytes(static_cast<std::int64_t>(n), bytesPerVoxel_, raw_.data());
    const double slope = header_.sclSlope, inter = header_.sclInter;
    const unsigned char* src = raw_.data();
    switch (header_.datatype) {
      case NIFTI_TYPE_UINT8:
        convert<std::uint8_t>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_INT8:
        convert<std::int8_t>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_INT16:
        convert<std::int16_t>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_UINT16:
        convert<std::uint16_t>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_INT32:
        convert<std::int32_t>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_UINT32:
        convert<std::uint32_t>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_INT64:
        convert<std::int64_t>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_UINT64:
        convert<std::uint64_t>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_FLOAT32:
        convert<float>(src, n, slope, inter, out);
        break;
      case NIFTI_TYPE_FLOAT64:
        convert<double>(src, n, slope, inter, out);
        break;
      default:
        throw Error(ErrorCode::Data, "unsupported datatype");
    }
  });
  ++volumesRead_;
  return true;
}

NiftiHeader readNiftiHeader(const std::filesystem::path& path) { return NiftiReader(path).header(); }

NiftiVolume readNiftiVolume(const std::filesystem::path& path) {
  NiftiReader reader(path);
  NiftiVolume vol;
  vol.header = reader.header();
  if (vol.header.voxelsPerVolume() * vol.header.volumes() > (std::int64_t(1) << 31))
    throw Error(ErrorCode::Data,
                "while reading " + path.string() + ": " + vol.header.shapeString() + " is too large to read whole; it must be streamed volume by volume");
  const auto n = static_cast<std::size_t>(vol.header.voxelsPerVolume());
  vol.data.resize(n * static_cast<std::size_t>(vol.header.volumes()));
  std::size_t t = 0;
  while (reader.readVolume(vol.data.data() + t * n)) ++t;
  return vol;
}

void writeNiftiFloat(const std::filesystem::path& path, const NiftiHeader& geometry, const float* data) {
  withContext("while writing " + path.string(), [&] {
    quietNiftiLibrary();
    const bool is4d = geometry.dim[3] > 1;
    int64_t dims[8] = {is4d ? 4 : 3, geometry.dim[0], geometry.dim[1], geometry.dim[2], is4d ? geometry.dim[3] : 1, 1, 1, 1};
    NiftiPtr nim(nifti_make_new_nim(dims, NIFTI_TYPE_FLOAT32, 1));
    if (!nim) throw Error(ErrorCode::Internal, "nifti_make_new_nim failed");
    nim->dx = nim->pixdim[1] = geometry.pixdim[0];
    nim->dy = nim->pixdim[2] = geometry.pixdim[1];
    nim->dz = nim->pixdim[3] = geometry.pixdim[2];
    if (is4d) nim->dt = nim->pixdim[4] = geometry.repetitionTime > 0 ? geometry.repetitionTime : geometry.pixdim[3];
    nim->xyz_units = NIFTI_UNITS_MM;
    nim->time_units = NIFTI_UNITS_SEC;
    nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
    nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) nim->sto_xyz.m[r][c] = geometry.voxelToWorld(r, c);
    nim->sto_ijk = nifti_dmat44_inverse(nim->sto_xyz);
    nifti_dmat44_to_quatern(nim->sto_xyz, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x, &nim->qoffset_y, &nim->qoffset_z, nullptr,
                            nullptr, nullptr, &nim->qfac);
    nim->qto_xyz = nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c, nim->quatern_d, nim->qoffset_x, nim->qoffset_y, nim->qoffset_z, nim->dx, nim->dy,
                                           nim->dz, nim->qfac);
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    const std::size_t bytes = static_cast<std::size_t>(nim->nvox) * sizeof(float);
    std::memcpy(nim->data, data, bytes);

    // nifti_clib writes to the name it is given: write beside the target, then rename.
    static std::atomic<unsigned> counter{0};
    const std::string name = path.filename().string();
    const bool gz = name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
    const auto tmp = path.parent_path() / (".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + (gz ? ".nii.gz" : ".nii"));
    std::filesystem::create_directories(path.parent_path().empty() ? "." : path.parent_path());
    if (nifti_set_filenames(nim.get(), tmp.c_str(), 0, 1) != 0) throw Error(ErrorCode::Internal, "nifti_set_filenames failed");
    nifti_image_write(nim.get());
    std::error_code ec;
    const auto written = std::filesystem::file_size(tmp, ec);
    if (ec || written < (gz ? 100u : bytes)) {
      std::filesystem::remove(tmp, ec);
      throw Error(ErrorCode::Io, "could not write the file (disk full or not writable?)");
    }
    std::filesystem::rename(tmp, path);
  });
}

}  // namespace bg
