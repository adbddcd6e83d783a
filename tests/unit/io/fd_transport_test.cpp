// The fd transport (issue 9 item 7) on socketpairs: read with timeout, end of stream, write
// everything through a full buffer, and a signal (EINTR) that must not end a wait early.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <numeric>
#include <thread>
#include <vector>

#include "io/fd_transport.h"
#include "io/unique_fd.h"

namespace imsm::io {
namespace {

using namespace std::chrono_literals;

struct Pair {
  UniqueFd a, b;
};
Pair socket_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

TEST(FdTransport, ReadsWhatIsThereAndTimesOutWhenNothingIs) {
  auto p = socket_pair();
  std::vector<std::uint8_t> buf(64);
  EXPECT_EQ(read_some(p.a.get(), buf, 0ms).kind, ReadResult::Kind::Timeout);
  const std::uint8_t frame[3] = {0x00, 0x0A, 0x12};
  ASSERT_TRUE(write_all(p.b.get(), frame, sizeof frame));
  const auto r = read_some(p.a.get(), buf, 1000ms);
  ASSERT_EQ(r.kind, ReadResult::Kind::Data);
  ASSERT_EQ(r.n, 3u);
  EXPECT_EQ(buf[1], 0x0A);
  EXPECT_EQ(buf[2], 0x12);
}

TEST(FdTransport, ThePeerClosingIsTheEndOfTheStream) {
  auto p = socket_pair();
  p.b.reset();
  std::vector<std::uint8_t> buf(8);
  EXPECT_EQ(read_some(p.a.get(), buf, 1000ms).kind, ReadResult::Kind::End);
}

TEST(FdTransport, WriteAllCompletesShortWritesThroughAFullSocketBuffer) {
  auto p = socket_pair();
  int small = 4096;  // the kernel rounds it up, still far below 4 MiB
  ::setsockopt(p.b.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  std::vector<std::uint8_t> data(4 << 20);
  std::iota(data.begin(), data.end(), std::uint8_t{0});
  std::vector<std::uint8_t> got;
  std::thread reader([&] {
    std::vector<std::uint8_t> buf(65536);
    for (;;) {
      const auto r = read_some(p.a.get(), buf, 10'000ms);
      if (r.kind != ReadResult::Kind::Data) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.n));
    }
  });
  EXPECT_TRUE(write_all(p.b.get(), data.data(), data.size()));
  p.b.reset();  // end of stream for the reader
  reader.join();
  EXPECT_EQ(got, data);  // every byte, in order
}

void on_usr1(int) {}

TEST(FdTransport, ASignalDoesNotEndTheWaitWithAnError) {
  struct sigaction sa {};
  sa.sa_handler = on_usr1;  // no SA_RESTART: poll() returns EINTR
  sigemptyset(&sa.sa_mask);
  struct sigaction old {};
  ::sigaction(SIGUSR1, &sa, &old);
  auto p = socket_pair();
  std::atomic<bool> waiting{false}, done{false};
  ReadResult r;
  std::thread reader([&] {
    std::vector<std::uint8_t> buf(8);
    waiting = true;
    r = read_some(p.a.get(), buf, 10'000ms);
    done = true;
  });
  while (!waiting.load()) std::this_thread::yield();
  // Signal the reader until data is written: at least one signal lands inside its wait.
  for (int i = 0; i < 1000 && !done.load(); ++i) {
    ::pthread_kill(reader.native_handle(), SIGUSR1);
    std::this_thread::yield();
  }
  const std::uint8_t byte = 0x0D;
  ASSERT_TRUE(write_all(p.b.get(), &byte, 1));
  reader.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(r.kind, ReadResult::Kind::Data) << r.error;
  EXPECT_EQ(r.n, 1u);
}

}  // namespace
}  // namespace imsm::io
