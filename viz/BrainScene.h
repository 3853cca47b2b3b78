#pragma once
// The 3D scene of the main view: background, glass brain, camera presets, and an orientation cube
// (L/R, A/P, S/I faces) in the lower left corner that turns with the camera.
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>

class vtkActor;
class vtkObject;
class vtkPolyData;

namespace bg::viz {

enum class CameraPreset { Left, Right, Top, Front };

class BrainScene {
 public:
  explicit BrainScene(vtkRenderer* renderer);
  ~BrainScene();
  bool hasOrientationMarker() const { return marker_ != nullptr; }
  void setBrainSurface(vtkPolyData* surface);
  bool hasBrainSurface() const { return brain_ != nullptr; }
  void setCamera(CameraPreset preset);
  static void backgroundColor(double rgb[3]);

 private:
  static void syncMarker(vtkObject* caller, unsigned long eventId, void* clientData, void* callData);
  vtkRenderer* renderer_;
  vtkSmartPointer<vtkActor> brain_;
  vtkSmartPointer<vtkRenderer> marker_;
  unsigned long observer_ = 0;
};

}  // namespace bg::viz
