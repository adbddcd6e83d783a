// Outputs of a bus (docs/simulate.md "Outputs"): spec parsing, the file and its .times
// sidecar, and round trips through a pty and a TCP listener (guide 2.5.1: raw 9600 8N1).
#include "sim/outputs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "io/serial_port.h"
#include "sim/bus_model.h"
#include "support/vectors.h"

namespace imsm::sim {
namespace {

std::vector<std::uint8_t> read_some(int fd, std::size_t want, int timeout_ms = 3000) {
  std::vector<std::uint8_t> got;
  while (got.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    std::uint8_t buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.insert(got.end(), buf, buf + n);
  }
  return got;
}

TEST(Outputs, ParseSpecs) {
  auto f = parse_output_spec("file:/tmp/x.bin");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, OutputKind::File);
  EXPECT_EQ(f->target, "/tmp/x.bin");
  EXPECT_TRUE(f->bus.empty());
  auto b = parse_output_spec("annex=tcp-listen:0.0.0.0:4001");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->bus, "annex");
  EXPECT_EQ(b->kind, OutputKind::TcpListen);
  EXPECT_EQ(b->target, "0.0.0.0:4001");
  EXPECT_EQ(parse_output_spec("pty")->kind, OutputKind::Pty);
  EXPECT_EQ(parse_output_spec("stdout")->kind, OutputKind::Stdout);
  EXPECT_EQ(parse_output_spec("main=serial:/dev/ttyUSB0")->target, "/dev/ttyUSB0");
  // A file name with '=' after the colon is still a file.
  EXPECT_EQ(parse_output_spec("file:/tmp/a=b")->target, "/tmp/a=b");
  for (const char* bad : {"", "file:", "tcp-listen:host:99999", "tcp-listen:", "ftp:x", "=pty"})
    EXPECT_FALSE(parse_output_spec(bad)) << bad;
}

TEST(Outputs, FileWritesBytesAndOneTimesLinePerRun) {
  const std::string path = ::testing::TempDir() + "/out_test.bin";
  auto out = make_output(*parse_output_spec("file:" + path), "main", {});
  ASSERT_TRUE(out) << out.error();
  const auto& frame = test::frame_vectors().at(0).raw;
  // A frame in two pieces that are back to back (one run), then one 300 s later.
  (*out)->write_run(300'000'000'000, {frame.data(), 5});
  (*out)->write_run(300'000'000'000 + 5 * kByteNs, {frame.data() + 5, 7});
  (*out)->write_run(600'000'000'000, frame);
  (*out)->finish();
  std::ifstream data(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(data)), {});
  ASSERT_EQ(bytes.size(), 24u);
  EXPECT_TRUE(std::equal(frame.begin(), frame.end(), bytes.begin()));
  std::ifstream times(path + ".times");
  std::stringstream s;
  s << times.rdbuf();
  EXPECT_EQ(s.str(), "0 300.000000\n12 600.000000\n");
}

TEST(Outputs, PtyRoundTrip) {
  OutputContext ctx;
  ctx.max_speed = false;
  auto out = make_output(*parse_output_spec("pty"), "main", ctx);
  ASSERT_TRUE(out) << out.error();
  const std::string announce = (*out)->announce();
  ASSERT_EQ(announce.rfind("pty main /dev/", 0), 0u) << announce;
  const std::string path = announce.substr(9);
  // Nobody reading yet: in real time the bytes are lost, as on an unwatched wire.
  const auto& frame = test::frame_vectors().at(0).raw;
  (*out)->write_run(0, frame);
  EXPECT_EQ((*out)->bytes_lost(), 12u);
  auto fd = io::open_serial(path, {});
  ASSERT_TRUE(fd) << fd.error();
  (*out)->write_run(1, frame);
  const auto got = read_some(fd->get(), 12);
  EXPECT_EQ(got, frame);  // 0x0D stays 0x0D: both ends are raw
  EXPECT_EQ((*out)->bytes_lost(), 12u);
}

TEST(Outputs, TcpListenRoundTripToEveryClient) {
  OutputContext ctx;
  ctx.max_speed = false;
  auto out = make_output(*parse_output_spec("tcp-listen:127.0.0.1:0"), "main", ctx);
  ASSERT_TRUE(out) << out.error();
  const std::string announce = (*out)->announce();
  ASSERT_EQ(announce.rfind("tcp-listen main 127.0.0.1:", 0), 0u) << announce;
  const int port = std::stoi(announce.substr(announce.rfind(':') + 1));
  ASSERT_GT(port, 0);
  auto connect_client = [&] {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return s;
  };
  const int c1 = connect_client();
  const int c2 = connect_client();
  ::usleep(50'000);  // let the kernel finish the handshakes
  const auto& frame = test::frame_vectors().at(0).raw;
  (*out)->write_run(0, frame);
  (*out)->write_run(kFrameNs, frame);
  std::vector<std::uint8_t> twice(frame);
  twice.insert(twice.end(), frame.begin(), frame.end());
  EXPECT_EQ(read_some(c1, 24), twice);
  EXPECT_EQ(read_some(c2, 24), twice);
  // A client that hangs up is dropped; the other still gets everything.
  ::close(c2);
  ::usleep(20'000);
  (*out)->write_run(2 * kFrameNs, frame);
  (*out)->write_run(3 * kFrameNs, frame);
  EXPECT_EQ(read_some(c1, 24), twice);
  ::close(c1);
}

}  // namespace
}  // namespace imsm::sim
