#include "atlas/ItkResample.h"

#include <cmath>
#include <string>

#include <itkImage.h>
#include <itkNearestNeighborInterpolateImageFunction.h>
#include <itkResampleImageFilter.h>

#include "errors/Error.h"

namespace bg::itkbridge {
namespace {

using LabelImage = itk::Image<std::int32_t, 3>;

// NIfTI is RAS, ITK is LPS: x and y of every physical coordinate change sign.
void setGeometry(const Geometry& g, LabelImage::PointType& origin, LabelImage::SpacingType& spacing, LabelImage::DirectionType& direction,
                 LabelImage::SizeType& size) {
  const double flip[3] = {-1.0, -1.0, 1.0};
  for (int j = 0; j < 3; ++j) {
    double norm = 0;
    for (int i = 0; i < 3; ++i) norm += g.voxelToWorldRas[i][j] * g.voxelToWorldRas[i][j];
    norm = std::sqrt(norm);
    if (!(norm > 0)) throw Error(ErrorCode::Data, "voxel-to-world matrix has a zero-length axis");
    spacing[j] = norm;
    origin[j] = flip[j] * g.voxelToWorldRas[j][3];
    size[j] = static_cast<itk::SizeValueType>(g.dim[j]);
    for (int i = 0; i < 3; ++i) direction(i, j) = flip[i] * g.voxelToWorldRas[i][j] / norm;
  }
}

}  // namespace

std::vector<std::int32_t> resampleLabelsNearest(const float* labels, const Geometry& from, const Geometry& to) {
  auto input = LabelImage::New();
  LabelImage::PointType origin;
  LabelImage::SpacingType spacing;
  LabelImage::DirectionType direction;
  LabelImage::SizeType size;
  setGeometry(from, origin, spacing, direction, size);
  LabelImage::RegionType region;
  region.SetSize(size);
  input->SetRegions(region);
  input->SetOrigin(origin);
  input->SetSpacing(spacing);
  input->SetDirection(direction);
  input->Allocate();
  std::int32_t* buf = input->GetBufferPointer();
  const std::size_t n = static_cast<std::size_t>(from.dim[0] * from.dim[1] * from.dim[2]);
  for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<std::int32_t>(std::lround(labels[i]));

  LabelImage::PointType outOrigin;
  LabelImage::SpacingType outSpacing;
  LabelImage::DirectionType outDirection;
  LabelImage::SizeType outSize;
  setGeometry(to, outOrigin, outSpacing, outDirection, outSize);
  auto resample = itk::ResampleImageFilter<LabelImage, LabelImage>::New();
  resample->SetInput(input);
  resample->SetInterpolator(itk::NearestNeighborInterpolateImageFunction<LabelImage, double>::New());
  resample->SetOutputOrigin(outOrigin);
  resample->SetOutputSpacing(outSpacing);
  resample->SetOutputDirection(outDirection);
  resample->SetSize(outSize);
  resample->SetDefaultPixelValue(0);
  try {
    resample->Update();
  } catch (const itk::ExceptionObject& e) {
    throw Error(ErrorCode::Internal, std::string("ITK resampling failed: ") + e.GetDescription());
  }
  const auto* out = resample->GetOutput()->GetBufferPointer();
  return std::vector<std::int32_t>(out, out + to.dim[0] * to.dim[1] * to.dim[2]);
}

}  // namespace bg::itkbridge
