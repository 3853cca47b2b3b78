#include <QTest>

#include <stdexcept>

#include "errors/Error.h"

using namespace bg;

class TestErrors : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void chainsContextOutermostFirst() {
    try {
      withContext("while parcellating sub-01_bold.nii.gz with schaefer200",
                  [] { withContext("while reading sub-01_bold.nii.gz", [] { throw Error(ErrorCode::Data, "truncated gzip stream"); }); });
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(std::string(e.what()), std::string("while parcellating sub-01_bold.nii.gz with schaefer200: while reading sub-01_bold.nii.gz: "
                                                  "truncated gzip stream"));
      QCOMPARE(e.cause(), std::string("truncated gzip stream"));
      QCOMPARE(e.context().size(), std::size_t(2));
      QCOMPARE(e.code(), ErrorCode::Data);
      QCOMPARE(e.exitCode(), 65);
    }
  }

  void wrapsForeignExceptions() {
    try {
      withContext("while loading", [] { throw std::runtime_error("boom"); });
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Internal);
      QCOMPARE(std::string(e.what()), std::string("while loading: boom"));
    }
  }

  void sqliteWriteFailuresAreIoErrors() {
    // SQLiteCpp throws SQLite's own text as a runtime_error: a full disk or a read-only workspace is
    // the user's to fix (exit 74 with what to do), not a bug (70).
    for (const char* what : {"database or disk is full", "attempt to write a readonly database"}) {
      try {
        withContext("while saving corpus 'x'", [&] { throw std::runtime_error(what); });
        QFAIL("no exception");
      } catch (const Error& e) {
        QCOMPARE(e.code(), ErrorCode::Io);
        QVERIFY2(std::string(e.what()).find(std::string("while saving corpus 'x': the workspace database: ") + what + "; ") == 0, e.what());
      }
    }
  }

  void returnsValueThrough() {
    const int v = withContext("ctx", [] { return 42; });
    QCOMPARE(v, 42);
  }

  void cancelKeepsNoContext() {
    try {
      withContext("while deriving", [] { throw CancelledError(); });
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Cancelled);
      QCOMPARE(e.exitCode(), 130);
      QCOMPARE(std::string(e.what()), std::string("cancelled"));
    }
  }

  void exitCodesAreDistinct() {
    QCOMPARE(Error(ErrorCode::Usage, "x").exitCode(), 64);
    QCOMPARE(Error(ErrorCode::NoInput, "x").exitCode(), 66);
    QCOMPARE(Error(ErrorCode::Io, "x").exitCode(), 74);
    QCOMPARE(Error(ErrorCode::Config, "x").exitCode(), 78);
    QCOMPARE(Error(ErrorCode::Internal, "x").exitCode(), 70);
  }
};

QTEST_APPLESS_MAIN(TestErrors)
#include "test_errors.moc"
