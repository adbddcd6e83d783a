// The event loop and its components (issue 9 item 1): start in order, stop in reverse, also
// when start-up or a turn throws; a thread owned by a JoiningThread is joined whatever
// unwinds (today's "terminate called without an active exception"); health is the worst.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "collector/service/event_loop.h"
#include "collector/service/joining_thread.h"

namespace imsm::collector::service {
namespace {

using namespace std::chrono_literals;

struct Recorder : Component {
  Recorder(std::string n, std::vector<std::string>& log) : name_(std::move(n)), log_(log) {}
  [[nodiscard]] std::string name() const override { return name_; }
  void configure() override { log_.push_back("configure " + name_); }
  void start() override {
    if (fail_start) throw std::runtime_error(name_ + ": cannot start");
    log_.push_back("start " + name_);
  }
  void poll() override { ++polls; }
  void stop() noexcept override { log_.push_back("stop " + name_); }
  [[nodiscard]] Health health() const override { return health_now; }
  std::string name_;
  std::vector<std::string>& log_;
  bool fail_start = false;
  int polls = 0;
  Health health_now = Health::ok();
};

TEST(ServiceEventLoop, StartsInOrderStopsInReverseOnce) {
  std::vector<std::string> log;
  Recorder a("a", log), b("b", log);
  {
    EventLoop loop(1ms);
    loop.add(a);
    loop.add(b);
    loop.start_all();
    loop.step([] {});
    loop.stop_all();
  }  // the destructor does not stop them twice
  EXPECT_EQ(log, (std::vector<std::string>{"configure a", "configure b", "start a", "start b",
                                           "stop b", "stop a"}));
  EXPECT_EQ(a.polls, 1);
  EXPECT_EQ(b.polls, 1);
}

TEST(ServiceEventLoop, AFailedStartStopsWhatHadStarted) {
  std::vector<std::string> log;
  Recorder a("a", log), b("b", log);
  b.fail_start = true;
  EventLoop loop(1ms);
  loop.add(a);
  loop.add(b);
  EXPECT_THROW(loop.start_all(), std::runtime_error);
  EXPECT_EQ(log, (std::vector<std::string>{"configure a", "configure b", "start a", "stop a"}));
}

TEST(ServiceEventLoop, RunTurnsUntilDoneAndPropagatesWhatATurnThrows) {
  std::vector<std::string> log;
  Recorder a("a", log);
  EventLoop loop(1ms);
  loop.add(a);
  loop.start_all();
  int turns = 0;
  loop.run([&] { ++turns; }, [&] { return turns == 3; });
  EXPECT_EQ(turns, 3);
  EXPECT_EQ(a.polls, 3);
  EXPECT_THROW(loop.run([] { throw std::runtime_error("turn"); }, [] { return false; }),
               std::runtime_error);
}

TEST(ServiceEventLoop, WakeTurnsAtOnceInsteadOfAtTheNextTick) {
  EventLoop loop(std::chrono::hours(1));  // the timer alone would not turn within the test
  std::atomic<int> turns{0};
  std::thread waker([&] { loop.wake(); });
  loop.run([&] { ++turns; }, [&] { return turns.load() >= 1; });
  waker.join();
  EXPECT_EQ(turns.load(), 1);
}

TEST(ServiceEventLoop, HealthIsTheWorstComponentsWithItsReason) {
  std::vector<std::string> log;
  Recorder a("a", log), b("b", log), c("c", log);
  b.health_now = Health::degraded("database is locked");
  EventLoop loop(1ms);
  loop.add(a);
  loop.add(b);
  loop.add(c);
  EXPECT_EQ(loop.health().text(), "degraded: database is locked");
  c.health_now = Health::failed("disk gone");
  EXPECT_EQ(loop.health().state, HealthState::Failed);
  EXPECT_EQ(worst({}).state, HealthState::Ok);
}

TEST(ServiceJoiningThread, AnExceptionUnwindingPastTheOwnerStopsAndJoinsTheThread) {
  std::atomic<bool> body_ran{false}, body_returned{false};
  try {
    JoiningThread t;
    t.start([&] {
      body_ran = true;
      while (!t.stop_flag().load()) std::this_thread::yield();
      body_returned = true;
    });
    while (!body_ran.load()) std::this_thread::yield();
    throw std::runtime_error("database is locked");  // a std::thread here would terminate
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(body_returned.load());  // joined before the catch ran
}

}  // namespace
}  // namespace imsm::collector::service
