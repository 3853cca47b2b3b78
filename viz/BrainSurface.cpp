#include "BrainSurface.h"

#include <cstring>

#include <vtkActor.h>
#include <vtkFlyingEdges3D.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkMatrix4x4.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataNormals.h>
#include <vtkQuadricDecimation.h>
#include <vtkProperty.h>
#include <vtkTransform.h>
#include <vtkTransformPolyDataFilter.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include "errors/Error.h"
#include "io/NiftiImage.h"

namespace bg::viz {

vtkSmartPointer<vtkImageData> toVtkImage(const NiftiVolume& volume) {
  const auto& d = volume.header.dim;
  auto image = vtkSmartPointer<vtkImageData>::New();
  image->SetDimensions(static_cast<int>(d[0]), static_cast<int>(d[1]), static_cast<int>(d[2]));
  image->SetOrigin(0, 0, 0);
  image->SetSpacing(1, 1, 1);
  auto scalars = vtkSmartPointer<vtkFloatArray>::New();
  const auto n = volume.header.voxelsPerVolume();
  scalars->SetNumberOfValues(n);
  // NIfTI and VTK both store x fastest, so the first frame copies straight across.
  std::memcpy(scalars->GetPointer(0), volume.data.data(), static_cast<std::size_t>(n) * sizeof(float));
  image->GetPointData()->SetScalars(scalars);
  return image;
}

vtkSmartPointer<vtkPolyData> buildBrainSurface(const NiftiVolume& mask, const BrainSurfaceOptions& options) {
  if (mask.data.empty()) throw Error(ErrorCode::Data, "brain mask is empty");
  auto image = toVtkImage(mask);

  vtkNew<vtkFlyingEdges3D> contour;
  contour->SetInputData(image);
  contour->SetValue(0, options.isoValue);
  contour->ComputeNormalsOff();

  vtkNew<vtkWindowedSincPolyDataFilter> smooth;
  smooth->SetInputConnection(contour->GetOutputPort());
  smooth->SetNumberOfIterations(options.smoothingIterations);
  smooth->SetPassBand(options.passBand);
  smooth->BoundarySmoothingOff();
  smooth->FeatureEdgeSmoothingOff();
  smooth->NonManifoldSmoothingOn();
  smooth->NormalizeCoordinatesOn();

  // Voxel indices -> RAS mm through the scan's own affine (handles LAS files and oblique grids).
  vtkNew<vtkMatrix4x4> affine;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) affine->SetElement(r, c, mask.header.voxelToWorld(r, c));
  vtkNew<vtkTransform> transform;
  transform->SetMatrix(affine);
  vtkNew<vtkQuadricDecimation> decimate;
  decimate->SetInputConnection(smooth->GetOutputPort());
  decimate->SetTargetReduction(options.decimate);
  vtkNew<vtkTransformPolyDataFilter> toWorld;
  toWorld->SetInputConnection(options.decimate > 0 ? decimate->GetOutputPort() : smooth->GetOutputPort());
  toWorld->SetTransform(transform);

  vtkNew<vtkPolyDataNormals> normals;
  normals->SetInputConnection(toWorld->GetOutputPort());
  normals->SplittingOff();
  normals->ConsistencyOn();
  normals->AutoOrientNormalsOn();
  normals->Update();

  vtkSmartPointer<vtkPolyData> out = normals->GetOutput();
  if (out->GetNumberOfPoints() == 0) throw Error(ErrorCode::Data, "brain mask produced no surface (all voxels below the iso value)");
  return out;
}

vtkSmartPointer<vtkActor> makeGlassBrainActor(vtkPolyData* surface, double opacity) {
  vtkNew<vtkPolyDataMapper> mapper;
  mapper->SetInputData(surface);
  mapper->ScalarVisibilityOff();
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  auto* p = actor->GetProperty();
  p->SetColor(0.86, 0.80, 0.78);
  p->SetOpacity(opacity);
  p->SetSpecular(0.0);  // a matte glass: specular lighting costs software GL ~10% of the frame
  p->SetSpecularPower(20);
  p->SetDiffuse(0.8);
  p->SetAmbient(0.15);
  // Only the outer layer: one translucent layer needs no depth sorting (see BrainScene).
  p->BackfaceCullingOn();
  return actor;
}

}  // namespace bg::viz

#include <vtkVersion.h>
namespace bg::viz {
const char* vtkVersionString() { return vtkVersion::GetVTKVersion(); }
}  // namespace bg::viz
