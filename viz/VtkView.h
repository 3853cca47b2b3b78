#pragma once
// A Qt 6 widget that hosts a VTK render window. VTK's own Qt module is built
// for Qt 5 in Debian, so we host vtkGenericOpenGLRenderWindow in our own
// QOpenGLWidget: Qt owns the GL context, VTK renders into it on the GUI thread.
#include <QOpenGLWidget>

#include <vtkNew.h>
#include <vtkSmartPointer.h>

class vtkGenericOpenGLRenderWindow;
class vtkGenericRenderWindowInteractor;
class vtkRenderer;
class vtkObject;

namespace bg::viz {

class VtkView : public QOpenGLWidget {
  Q_OBJECT
 public:
  explicit VtkView(QWidget* parent = nullptr);
  ~VtkView() override;

  vtkRenderer* renderer() const;
  vtkGenericOpenGLRenderWindow* renderWindow() const;
  vtkGenericRenderWindowInteractor* interactor() const;
  // Asks for a repaint (VTK content changed).
  void requestRender() { update(); }

  // Must run before QApplication is created: VTK needs an OpenGL >= 3.2 core profile.
  static void setDefaultSurfaceFormat();

 Q_SIGNALS:
  // A left click that did not drag, in VTK display coordinates (pixels, origin bottom left).
  void clicked(double x, double y);

 protected:
  void initializeGL() override;
  void resizeGL(int w, int h) override;
  void paintGL() override;

  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseDoubleClickEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  void keyReleaseEvent(QKeyEvent* e) override;
  void enterEvent(QEnterEvent* e) override;
  void leaveEvent(QEvent* e) override;

 private:
  QPointF pressPosition_;
  void releaseGraphicsResources();
  void makeOpaque();
  void setEventPosition(const QPointF& pos, Qt::KeyboardModifiers mods, int repeat = 0);
  static void onWindowEvent(vtkObject* caller, unsigned long eventId, void* clientData, void* callData);

  vtkNew<vtkGenericOpenGLRenderWindow> window_;
  vtkNew<vtkGenericRenderWindowInteractor> interactor_;
  vtkNew<vtkRenderer> renderer_;
  bool inPaint_ = false;
  bool initialized_ = false;
};

}  // namespace bg::viz
