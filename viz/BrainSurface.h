#pragma once
// The MNI brain as a smooth surface: marching cubes on the brain mask, then
// windowed-sinc smoothing, placed in world (RAS mm) coordinates by the affine.
#include <vtkSmartPointer.h>

class vtkPolyData;
class vtkImageData;
class vtkActor;

namespace bg {
struct NiftiVolume;
}

namespace bg::viz {

struct BrainSurfaceOptions {
  double isoValue = 0.5;
  int smoothingIterations = 20;
  double passBand = 0.05;
  double decimate = 0.75;  // share of triangles removed (quadric decimation): software GL draws the rest 4x faster
};

// Runs on any thread (no rendering): workers build it, the GUI thread shows it.
vtkSmartPointer<vtkPolyData> buildBrainSurface(const NiftiVolume& mask, const BrainSurfaceOptions& options = {});
// A voxel-grid image (origin 0, spacing 1) of a 3D volume's first frame.
vtkSmartPointer<vtkImageData> toVtkImage(const NiftiVolume& volume);
// A semi-transparent "glass brain" actor for the surface.
vtkSmartPointer<vtkActor> makeGlassBrainActor(vtkPolyData* surface, double opacity = 0.35);

}  // namespace bg::viz

namespace bg::viz {
// "9.1.0"
const char* vtkVersionString();
}  // namespace bg::viz
