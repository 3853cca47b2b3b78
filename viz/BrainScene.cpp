#include "BrainScene.h"

#include <cmath>

#include <vtkAnnotatedCubeActor.h>
#include <vtkCallbackCommand.h>
#include <vtkCamera.h>
#include <vtkCommand.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>

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
  if (auto* window = renderer_->GetRenderWindow()) {
    vtkNew<vtkAnnotatedCubeActor> cube;
    cube->SetXPlusFaceText("R");
    cube->SetXMinusFaceText("L");
    cube->SetYPlusFaceText("A");
    cube->SetYMinusFaceText("P");
    cube->SetZPlusFaceText("S");
    cube->SetZMinusFaceText("I");
    cube->SetFaceTextScale(0.6);
    cube->GetCubeProperty()->SetColor(0.78, 0.80, 0.86);
    cube->GetTextEdgesProperty()->SetColor(0.3, 0.3, 0.3);
    for (auto* face : {cube->GetXPlusFaceProperty(), cube->GetXMinusFaceProperty()}) face->SetColor(0.85, 0.25, 0.25);
    for (auto* face : {cube->GetYPlusFaceProperty(), cube->GetYMinusFaceProperty()}) face->SetColor(0.2, 0.6, 0.25);
    for (auto* face : {cube->GetZPlusFaceProperty(), cube->GetZMinusFaceProperty()}) face->SetColor(0.25, 0.4, 0.85);
    marker_ = vtkSmartPointer<vtkRenderer>::New();
    marker_->SetViewport(0.0, 0.0, 0.16, 0.22);
    marker_->SetLayer(1);
    marker_->InteractiveOff();
    marker_->AddActor(cube);
    window->SetNumberOfLayers(2);
    window->AddRenderer(marker_);
    vtkNew<vtkCallbackCommand> sync;
    sync->SetCallback(&BrainScene::syncMarker);
    sync->SetClientData(this);
    observer_ = renderer_->AddObserver(vtkCommand::StartEvent, sync);
  }
}

BrainScene::~BrainScene() {
  if (observer_) renderer_->RemoveObserver(observer_);
  if (marker_ && marker_->GetRenderWindow()) marker_->GetRenderWindow()->RemoveRenderer(marker_);
}

void BrainScene::syncMarker(vtkObject*, unsigned long, void* clientData, void*) {
  // The cube looks at the scene from the main camera's direction, so its faces name the sides shown.
  auto* self = static_cast<BrainScene*>(clientData);
  auto* main = self->renderer_->GetActiveCamera();
  auto* cam = self->marker_->GetActiveCamera();
  double pos[3], focal[3], up[3];
  main->GetPosition(pos);
  main->GetFocalPoint(focal);
  main->GetViewUp(up);
  double d[3] = {pos[0] - focal[0], pos[1] - focal[1], pos[2] - focal[2]};
  const double norm = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  if (norm <= 0) return;
  cam->SetFocalPoint(0, 0, 0);
  cam->SetPosition(4 * d[0] / norm, 4 * d[1] / norm, 4 * d[2] / norm);
  cam->SetViewUp(up);
  self->marker_->ResetCamera();
  self->marker_->ResetCameraClippingRange();
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
