#include <QTest>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "TestSupport.h"
#include "jobs/JobRunner.h"

using namespace bg;
using namespace std::chrono_literals;

class TestJobs : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void completesWithProgressAndStates() {
    JobRunner runner(2);
    std::mutex m;
    std::vector<JobState> states;
    std::vector<double> fractions;
    runner.addObserver([&](const JobSnapshot& s) {
      std::lock_guard lock(m);
      if (states.empty() || states.back() != s.state) states.push_back(s.state);
      fractions.push_back(s.fraction);
    });
    auto job = runner.submit("count", [](JobContext& ctx) {
      for (int i = 1; i <= 5; ++i) {
        std::this_thread::sleep_for(60ms);
        ctx.update("step " + std::to_string(i), i / 5.0);
      }
    });
    QCOMPARE(job->wait(), JobState::Completed);
    const auto snap = job->snapshot();
    QCOMPARE(snap.fraction, 1.0);
    QCOMPARE(snap.stage, std::string("step 5"));
    QVERIFY(snap.elapsedSeconds >= 0.25);
    std::lock_guard lock(m);
    std::string seen;
    for (auto st : states) seen += std::string(jobStateName(st)) + " ";
    QVERIFY2(states == (std::vector<JobState>{JobState::Queued, JobState::Running, JobState::Completed}), seen.c_str());
    QVERIFY(fractions.size() >= 5);
  }

  void etaIsEstimatedFromProgress() {
    JobRunner runner(1);
    std::atomic<bool> release{false};
    auto job = runner.submit("slow", [&](JobContext& ctx) {
      ctx.update("half", 0.5);
      while (!release) std::this_thread::sleep_for(5ms);
    });
    std::this_thread::sleep_for(400ms);
    const auto s = job->snapshot();
    QCOMPARE(s.state, JobState::Running);
    // Half done after ~0.4 s: about 0.4 s left.
    QVERIFY2(s.etaSeconds > 0.2 && s.etaSeconds < 1.0, std::to_string(s.etaSeconds).c_str());
    release = true;
    job->wait();
  }

  void cancelMidRunRemovesPartialOutput() {
    const auto dir = bgtest::scratchDir("jobs_cancel");
    const auto out = dir / "partial.tsv";
    JobRunner runner(1);
    std::atomic<int> written{0};
    auto job = runner.submit("write rows", [&](JobContext& ctx) {
      ctx.registerOutput(out);
      std::ofstream f(out);
      for (int i = 0; i < 1000; ++i) {
        f << i << "\n" << std::flush;
        ++written;
        ctx.update("writing", i / 1000.0);
        ctx.throwIfCancelled();
        std::this_thread::sleep_for(5ms);
      }
    });
    while (written < 20) std::this_thread::sleep_for(1ms);
    QVERIFY(std::filesystem::exists(out));
    job->requestCancel();
    QVERIFY(job->state() == JobState::Cancelling || job->state() == JobState::Cancelled);
    QCOMPARE(job->wait(), JobState::Cancelled);
    QVERIFY(written < 1000);
    QVERIFY2(!std::filesystem::exists(out), "partial output must be removed");
    QCOMPARE(job->snapshot().exitCode, 130);
  }

  void completedJobKeepsItsOutput() {
    const auto dir = bgtest::scratchDir("jobs_keep");
    const auto out = dir / "done.txt";
    JobRunner runner(1);
    auto job = runner.submit("write", [&](JobContext& ctx) {
      ctx.registerOutput(out);
      std::ofstream(out) << "ok";
    });
    QCOMPARE(job->wait(), JobState::Completed);
    QVERIFY(std::filesystem::exists(out));
  }

  void queuedJobCancelledBeforeItStarts() {
    JobRunner runner(1);
    std::atomic<bool> release{false};
    std::atomic<bool> secondRan{false};
    auto first = runner.submit("blocker", [&](JobContext&) {
      while (!release) std::this_thread::sleep_for(2ms);
    });
    auto second = runner.submit("queued", [&](JobContext&) { secondRan = true; });
    QCOMPARE(second->state(), JobState::Queued);
    second->requestCancel();
    QCOMPARE(second->state(), JobState::Cancelled);
    release = true;
    QCOMPARE(first->wait(), JobState::Completed);
    QCOMPARE(second->wait(), JobState::Cancelled);
    runner.waitAll();
    QVERIFY(!secondRan);
  }

  void failureKeepsChainedMessage() {
    JobRunner runner(1);
    auto job = runner.submit(
        "fails", [](JobContext&) { withContext("while reading sub-02.nii.gz", [] { throw Error(ErrorCode::Data, "header/data size mismatch"); }); });
    QCOMPARE(job->wait(), JobState::Failed);
    const auto s = job->snapshot();
    QCOMPARE(s.error, std::string("while reading sub-02.nii.gz: header/data size mismatch"));
    QCOMPARE(s.exitCode, 65);
  }

  void runsJobsInParallel() {
    JobRunner runner(2);
    std::atomic<int> running{0}, peak{0};
    auto work = [&](JobContext&) {
      const int now = ++running;
      int p = peak;
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      std::this_thread::sleep_for(150ms);
      --running;
    };
    auto a = runner.submit("a", work);
    auto b = runner.submit("b", work);
    a->wait();
    b->wait();
    QCOMPARE(peak.load(), 2);
  }

  void destructorCancelsRunningJobs() {
    std::atomic<bool> sawCancel{false};
    std::shared_ptr<Job> job;
    {
      JobRunner runner(1);
      job = runner.submit("forever", [&](JobContext& ctx) {
        while (!ctx.cancelRequested()) std::this_thread::sleep_for(2ms);
        sawCancel = true;
        ctx.throwIfCancelled();
      });
      while (job->state() != JobState::Running) std::this_thread::sleep_for(1ms);
    }
    QVERIFY(sawCancel);
    QCOMPARE(job->state(), JobState::Cancelled);
  }
};

QTEST_APPLESS_MAIN(TestJobs)
#include "test_jobs.moc"
