#include "BrainScene.h"

#include <vtkNew.h>
#include <vtkRenderStepsPass.h>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkPolyData.h>
#include <vtkRenderer.h>

#include "BrainSurface.h"

namespace bg::viz {

void BrainScene::backgroundColor(double rgb[3]) {
  rgb[0] = 0.10;
  rgb[1] = 0.11;
  rgb[2] = 0.14;
}

BrainScene::BrainScene(vtkRenderer* renderer) : renderer_(renderer) {
  double bg[3];
  backgroundColor(bg);
  renderer_->SetBackground(bg);
  // The brain is one translucent layer (back faces culled) drawn after the opaque nodes and edges,
  // so plain blending is exact. Depth peeling would cost 3-4x the frame time on software GL, and VTK
  // 9.1 otherwise falls back to order-independent transparency (extra float targets and a composite
  // pass: -35% frame rate on llvmpipe, and no switch to turn it off before 9.2). The standard render
  // steps with their plain translucent pass avoid both.
  renderer_->SetUseDepthPeeling(false);
  vtkNew<vtkRenderStepsPass> steps;
  renderer_->SetPass(steps);
}

void BrainScene::setBrainSurface(vtkPolyData* surface) {
  if (brain_) renderer_->RemoveActor(brain_);
  brain_ = makeGlassBrainActor(surface);
  renderer_->AddActor(brain_);
  setCamera(CameraPreset::Left);
}

void BrainScene::setCamera(CameraPreset preset) {
  auto* cam = renderer_->GetActiveCamera();
  cam->SetFocalPoint(0, -18, 18);
  switch (preset) {
    case CameraPreset::Left:
      cam->SetPosition(-500, -18, 18);
      cam->SetViewUp(0, 0, 1);
      break;
    case CameraPreset::Right:
      cam->SetPosition(500, -18, 18);
      cam->SetViewUp(0, 0, 1);
      break;
    case CameraPreset::Top:
      cam->SetPosition(0, -18, 500);
      cam->SetViewUp(0, 1, 0);
      break;
    case CameraPreset::Front:
      cam->SetPosition(0, 500, 18);
      cam->SetViewUp(0, 0, 1);
      break;
  }
  renderer_->ResetCamera();
  cam->Zoom(1.5);  // ResetCamera fits the bounding sphere, which leaves a brain small
  renderer_->ResetCameraClippingRange();
}

}  // namespace bg::viz
