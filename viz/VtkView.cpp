#include "VtkView.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkOpenGLState.h>
#include <vtkRenderer.h>

namespace bg::viz {

void VtkView::setDefaultSurfaceFormat() {
  QSurfaceFormat fmt;
  fmt.setRenderableType(QSurfaceFormat::OpenGL);
  fmt.setVersion(3, 2);
  fmt.setProfile(QSurfaceFormat::CoreProfile);
  fmt.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
  fmt.setRedBufferSize(8);
  fmt.setGreenBufferSize(8);
  fmt.setBlueBufferSize(8);
  fmt.setDepthBufferSize(24);
  fmt.setStencilBufferSize(8);
  fmt.setAlphaBufferSize(8);
  fmt.setSamples(0);
  QSurfaceFormat::setDefaultFormat(fmt);
}

VtkView::VtkView(QWidget* parent) : QOpenGLWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
  setMinimumSize(200, 150);
  window_->AddRenderer(renderer_);
  window_->SetMultiSamples(0);
  interactor_->SetRenderWindow(window_);
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  interactor_->SetInteractorStyle(style);
  // Rendering is driven by Qt: the interactor asks for frames through update().
  interactor_->EnableRenderOff();
  interactor_->Initialize();

  vtkNew<vtkCallbackCommand> cb;
  cb->SetCallback(&VtkView::onWindowEvent);
  cb->SetClientData(this);
  window_->AddObserver(vtkCommand::WindowMakeCurrentEvent, cb);
  window_->AddObserver(vtkCommand::WindowIsCurrentEvent, cb);
  window_->AddObserver(vtkCommand::WindowFrameEvent, cb);
  interactor_->AddObserver(vtkCommand::RenderEvent, cb);
}

VtkView::~VtkView() {
  makeCurrent();
  releaseGraphicsResources();
  doneCurrent();
}

vtkRenderer* VtkView::renderer() const { return renderer_.Get(); }
vtkGenericOpenGLRenderWindow* VtkView::renderWindow() const { return window_.Get(); }
vtkGenericRenderWindowInteractor* VtkView::interactor() const { return interactor_.Get(); }

void VtkView::onWindowEvent(vtkObject*, unsigned long eventId, void* clientData, void* callData) {
  auto* self = static_cast<VtkView*>(clientData);
  switch (eventId) {
    case vtkCommand::WindowMakeCurrentEvent:
      // QOpenGLContext::makeCurrent, not QOpenGLWidget::makeCurrent: the widget's version also
      // binds Qt's framebuffer behind VTK's state cache, and VTK then attaches its buffers to it.
      if (self->context() && QOpenGLContext::currentContext() != self->context()) self->context()->makeCurrent(self->context()->surface());
      break;
    case vtkCommand::WindowIsCurrentEvent: {
      auto* isCurrent = static_cast<bool*>(callData);
      *isCurrent = self->context() && QOpenGLContext::currentContext() == self->context();
      break;
    }
    case vtkCommand::WindowFrameEvent:
      // VTK finished a frame outside paintGL (e.g. an interactor render): show it.
      if (!self->inPaint_) self->update();
      break;
    case vtkCommand::RenderEvent:
      self->update();
      break;
    default:
      break;
  }
}

void VtkView::initializeGL() {
  window_->SetOwnContext(false);
  window_->SetReadyForRendering(true);
  window_->SetIsCurrent(true);
  window_->OpenGLInitContext();
  initialized_ = true;
  connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, [this] {
    makeCurrent();
    releaseGraphicsResources();
    doneCurrent();
  });
}

void VtkView::releaseGraphicsResources() {
  if (!initialized_) return;
  window_->ReleaseGraphicsResources(window_);
  window_->SetReadyForRendering(false);
  initialized_ = false;
}

void VtkView::resizeGL(int w, int h) {
  const double dpr = devicePixelRatioF();
  const int pw = static_cast<int>(w * dpr), ph = static_cast<int>(h * dpr);
  window_->SetSize(pw, ph);
  interactor_->SetSize(pw, ph);
  interactor_->ConfigureEvent();
}

void VtkView::paintGL() {
  if (!initialized_) return;
  inPaint_ = true;
  window_->SetReadyForRendering(true);
  auto* state = window_->GetState();
  // Qt bound its framebuffer and changed viewport and depth state since VTK last looked.
  state->ResetFramebufferBindings();
  state->ResetGLViewportState();
  state->vtkglDepthFunc(GL_LEQUAL);  // Qt leaves GL_LESS; VTK expects GL_LEQUAL
  // VTK renders into its own framebuffers, then blits the frame into the one Qt bound.
  window_->SetFrameBlitModeToBlitToCurrent();
  window_->Render();
  inPaint_ = false;
  makeOpaque();
}

void VtkView::makeOpaque() {
  // VTK leaves the background's alpha at 0; Qt would compose the view as transparent
  // (black on screen, garbage in grabs). Set alpha to 1 and restore the state VTK cached.
  auto* f = context()->functions();
  GLboolean mask[4];
  f->glGetBooleanv(GL_COLOR_WRITEMASK, mask);
  GLfloat clear[4];
  f->glGetFloatv(GL_COLOR_CLEAR_VALUE, clear);
  GLint viewport[4];
  f->glGetIntegerv(GL_VIEWPORT, viewport);
  const GLboolean scissor = f->glIsEnabled(GL_SCISSOR_TEST);
  if (scissor) f->glDisable(GL_SCISSOR_TEST);
  f->glViewport(0, 0, static_cast<GLsizei>(width() * devicePixelRatioF()), static_cast<GLsizei>(height() * devicePixelRatioF()));
  f->glColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
  f->glClearColor(0.0f, 0.0f, 0.0f, 1.0f);
  f->glClear(GL_COLOR_BUFFER_BIT);
  f->glColorMask(mask[0], mask[1], mask[2], mask[3]);
  f->glClearColor(clear[0], clear[1], clear[2], clear[3]);
  f->glViewport(viewport[0], viewport[1], viewport[2], viewport[3]);
  if (scissor) f->glEnable(GL_SCISSOR_TEST);
}

void VtkView::setEventPosition(const QPointF& pos, Qt::KeyboardModifiers mods, int repeat) {
  const double dpr = devicePixelRatioF();
  interactor_->SetEventInformationFlipY(static_cast<int>(pos.x() * dpr), static_cast<int>(pos.y() * dpr), (mods & Qt::ControlModifier) ? 1 : 0,
                                        (mods & Qt::ShiftModifier) ? 1 : 0, 0, repeat);
  interactor_->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
}

void VtkView::mousePressEvent(QMouseEvent* e) {
  setEventPosition(e->position(), e->modifiers());
  if (e->button() == Qt::LeftButton) pressPosition_ = e->position();
  switch (e->button()) {
    case Qt::LeftButton:
      interactor_->InvokeEvent(vtkCommand::LeftButtonPressEvent);
      break;
    case Qt::MiddleButton:
      interactor_->InvokeEvent(vtkCommand::MiddleButtonPressEvent);
      break;
    case Qt::RightButton:
      interactor_->InvokeEvent(vtkCommand::RightButtonPressEvent);
      break;
    default:
      break;
  }
  update();
}

void VtkView::mouseDoubleClickEvent(QMouseEvent* e) {
  setEventPosition(e->position(), e->modifiers(), 1);
  if (e->button() == Qt::LeftButton) interactor_->InvokeEvent(vtkCommand::LeftButtonPressEvent);
  update();
}

void VtkView::mouseReleaseEvent(QMouseEvent* e) {
  setEventPosition(e->position(), e->modifiers());
  if (e->button() == Qt::LeftButton && (e->position() - pressPosition_).manhattanLength() < 4) {
    const double dpr = devicePixelRatioF();
    Q_EMIT clicked(e->position().x() * dpr, (height() - e->position().y()) * dpr);
  }
  switch (e->button()) {
    case Qt::LeftButton:
      interactor_->InvokeEvent(vtkCommand::LeftButtonReleaseEvent);
      break;
    case Qt::MiddleButton:
      interactor_->InvokeEvent(vtkCommand::MiddleButtonReleaseEvent);
      break;
    case Qt::RightButton:
      interactor_->InvokeEvent(vtkCommand::RightButtonReleaseEvent);
      break;
    default:
      break;
  }
  update();
}

void VtkView::mouseMoveEvent(QMouseEvent* e) {
  setEventPosition(e->position(), e->modifiers());
  interactor_->InvokeEvent(vtkCommand::MouseMoveEvent);
  if (e->buttons() != Qt::NoButton) update();
}

void VtkView::wheelEvent(QWheelEvent* e) {
  setEventPosition(e->position(), e->modifiers());
  const int delta = e->angleDelta().y();
  if (delta > 0)
    interactor_->InvokeEvent(vtkCommand::MouseWheelForwardEvent);
  else if (delta < 0)
    interactor_->InvokeEvent(vtkCommand::MouseWheelBackwardEvent);
  update();
  e->accept();
}

void VtkView::keyPressEvent(QKeyEvent* e) {
  const QByteArray text = e->text().toLatin1();
  const char key = text.isEmpty() ? '\0' : text.at(0);
  const QPoint p = mapFromGlobal(QCursor::pos());
  setEventPosition(p, e->modifiers(), e->isAutoRepeat() ? 1 : 0);
  interactor_->SetKeyCode(key);
  interactor_->SetKeySym(text.isEmpty() ? nullptr : text.constData());
  interactor_->InvokeEvent(vtkCommand::KeyPressEvent);
  interactor_->InvokeEvent(vtkCommand::CharEvent);
  update();
}

void VtkView::keyReleaseEvent(QKeyEvent* e) {
  const QByteArray text = e->text().toLatin1();
  interactor_->SetKeyCode(text.isEmpty() ? '\0' : text.at(0));
  interactor_->InvokeEvent(vtkCommand::KeyReleaseEvent);
}

void VtkView::enterEvent(QEnterEvent*) { interactor_->InvokeEvent(vtkCommand::EnterEvent); }
void VtkView::leaveEvent(QEvent*) { interactor_->InvokeEvent(vtkCommand::LeaveEvent); }

}  // namespace bg::viz
