#pragma once
// The 3D scene of the main view: background, glass brain, camera presets.
#include <vtkSmartPointer.h>

class vtkActor;
class vtkPolyData;
class vtkRenderer;

namespace bg::viz {

enum class CameraPreset { Left, Right, Top, Front };

class BrainScene {
 public:
  explicit BrainScene(vtkRenderer* renderer);
  void setBrainSurface(vtkPolyData* surface);
  bool hasBrainSurface() const { return brain_ != nullptr; }
  void setCamera(CameraPreset preset);
  static void backgroundColor(double rgb[3]);

 private:
  vtkRenderer* renderer_;
  vtkSmartPointer<vtkActor> brain_;
};

}  // namespace bg::viz
