#include "io/NiftiImage.h"

#include <memory>
#include <mutex>

#include <nifti/nifti2_io.h>

#include "errors/Error.h"

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

NiftiHeader headerFrom(const nifti_image& nim) {
  NiftiHeader h;
  h.niftiVersion = (nim.nifti_type == NIFTI_FTYPE_NIFTI2_1 || nim.nifti_type == NIFTI_FTYPE_NIFTI2_2) ? 2 : 1;
  h.ndim = static_cast<int>(nim.ndim);
  h.dim = {nim.nx, nim.ny, nim.nz, nim.nt};
  for (int d = h.ndim + 1; d <= 3; ++d) h.dim[d - 1] = 1;
  if (h.ndim < 4) h.dim[3] = 1;
  h.pixdim = {nim.dx, nim.dy, nim.dz, nim.dt};
  h.datatype = nim.datatype;
  h.sclSlope = nim.scl_slope;
  h.sclInter = nim.scl_inter;
  h.qformCode = nim.qform_code;
  h.sformCode = nim.sform_code;
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
  if (h.ndim >= 4 && nim.nt > 1) {
    double tr = nim.dt;
    switch (nim.time_units) {
      case NIFTI_UNITS_MSEC: tr /= 1000.0; break;
      case NIFTI_UNITS_USEC: tr /= 1e6; break;
      default: break;  // seconds, or unknown (fMRI files almost always mean seconds)
    }
    h.repetitionTime = tr;
  }
  return h;
}

NiftiPtr open(const std::filesystem::path& path, bool readData) {
  quietNiftiLibrary();
  if (!std::filesystem::exists(path)) throw Error(ErrorCode::NoInput, "file does not exist");
  if (!nifti_is_complete_filename(path.c_str()) || is_nifti_file(path.c_str()) <= 0)
    throw Error(ErrorCode::Data, "not a NIfTI-1 or NIfTI-2 file (bad header magic or name)");
  NiftiPtr nim(nifti_image_read(path.c_str(), readData ? 1 : 0));
  if (!nim)
    throw Error(ErrorCode::Data, readData ? "could not read the image data (truncated or corrupt file?)"
                                          : "could not read the header (truncated or corrupt file?)");
  if (nim->nx < 1 || nim->ny < 1 || nim->nz < 1) throw Error(ErrorCode::Data, "header has empty dimensions");
  return nim;
}

template <class T>
void convert(const void* src, std::size_t n, double slope, double inter, std::vector<float>& out) {
  const T* p = static_cast<const T*>(src);
  out.resize(n);
  if (slope != 0.0 && !(slope == 1.0 && inter == 0.0)) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(p[i]) * slope + inter);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(p[i]);
  }
}

}  // namespace

std::string NiftiHeader::shapeString() const {
  std::string s = std::to_string(dim[0]) + "x" + std::to_string(dim[1]) + "x" + std::to_string(dim[2]);
  if (ndim >= 4) s += "x" + std::to_string(dim[3]);
  return s;
}

NiftiHeader readNiftiHeader(const std::filesystem::path& path) {
  return withContext("while reading " + path.string(), [&] { return headerFrom(*open(path, false)); });
}

NiftiVolume readNiftiVolume(const std::filesystem::path& path) {
  return withContext("while reading " + path.string(), [&] {
    auto nim = open(path, true);
    NiftiVolume vol;
    vol.header = headerFrom(*nim);
    if (nim->ndim > 4 && (nim->nu > 1 || nim->nv > 1 || nim->nw > 1))
      throw Error(ErrorCode::Data, "5D and higher images are not supported (" + std::to_string(nim->ndim) + " dims)");
    const auto n = static_cast<std::size_t>(nim->nvox);
    const double slope = nim->scl_slope, inter = nim->scl_inter;
    switch (nim->datatype) {
      case NIFTI_TYPE_UINT8: convert<std::uint8_t>(nim->data, n, slope, inter, vol.data); break;
      case NIFTI_TYPE_INT8: convert<std::int8_t>(nim->data, n, slope, inter, vol.data); break;
      case NIFTI_TYPE_INT16: convert<std::int16_t>(nim->data, n, slope, inter, vol.data); break;
      case NIFTI_TYPE_UINT16: convert<std::uint16_t>(nim->data, n, slope, inter, vol.data); break;
      case NIFTI_TYPE_INT32: convert<std::int32_t>(nim->data, n, slope, inter, vol.data); break;
      case NIFTI_TYPE_UINT32: convert<std::uint32_t>(nim->data, n, slope, inter, vol.data); break;
      case NIFTI_TYPE_INT64: convert<std::int64_t>(nim->data, n, slope, inter, vol.data); break;
      case NIFTI_TYPE_FLOAT32: convert<float>(nim->data, n, slope, inter, vol.data); break;
      case NIFTI_TYPE_FLOAT64: convert<double>(nim->data, n, slope, inter, vol.data); break;
      default:
        throw Error(ErrorCode::Data, std::string("unsupported NIfTI datatype ") + nifti_datatype_string(nim->datatype));
    }
    return vol;
  });
}

}  // namespace bg
