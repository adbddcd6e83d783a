#include "collector/modbus/modbus_gateway.h"

#include <fcntl.h>
#include <modbus.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "collector/modbus/register_map.h"
#include "collector/modbus/unit_map.h"

namespace imsm::collector::modbus {

namespace {

constexpr int kMaxReadRegisters = 125;  // Modbus application protocol 6.3: 1..125 (0x7D)

// libmodbus contexts with the socket handed over, and their register tables.
struct ModbusFree {
  void operator()(modbus_t* ctx) const { modbus_free(ctx); }
  void operator()(modbus_mapping_t* m) const { modbus_mapping_free(m); }
};

std::string endpoint(const std::string& host, int port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

int bound_port_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

struct ModbusGateway::Client {
  int fd = -1;
  std::unique_ptr<modbus_t, ModbusFree> ctx;
  std::unique_ptr<modbus_mapping_t, ModbusFree> map;
  std::thread thread;
  std::atomic<bool> done{false};
};

ModbusGateway::ModbusGateway(Store& store, GatewayOptions options)
    : store_(store), options_(std::move(options)) {}

ModbusGateway::~ModbusGateway() {
  stop();
  reap(true);
  for (const int fd : {listen_fd_, wake_[0], wake_[1]})
    if (fd >= 0) ::close(fd);
}

void ModbusGateway::bind() {
  const std::string where = endpoint(options_.host, options_.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  if (const int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw std::runtime_error(where + ": " + ::gai_strerror(rc));
  std::string error = "no address";
  for (auto* ai = found; ai != nullptr && listen_fd_ < 0; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 16) == 0) {
      listen_fd_ = fd;
    } else {
      error = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) throw std::runtime_error(where + ": " + error);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::runtime_error(where + ": pipe: " + std::strerror(errno));
  port_ = bound_port_of(listen_fd_);
}

void ModbusGateway::stop() {
  stopping_ = true;
  if (wake_[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(wake_[1], &byte, 1);  // full pipe: already woken
  }
}

void ModbusGateway::run() {
  if (listen_fd_ < 0) throw std::logic_error("ModbusGateway::run before bind");
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("modbus: poll: {}", std::strerror(errno));
      break;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents & POLLIN) accept_one();
  }
  reap(true);
}

void ModbusGateway::accept_one() {
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;  // EINTR, ECONNABORTED, EMFILE: the next poll tries again
  reap(false);
  if (clients_.size() >= options_.max_clients) {
    ++counters_.refused;
    ::close(fd);
    return;
  }
  auto c = std::make_unique<Client>();
  c->fd = fd;
  c->ctx.reset(modbus_new_tcp(nullptr, 0));
  c->map.reset(modbus_mapping_new_start_address(0, 0, 0, 0, 0, kRegisterCount, 0, kRegisterCount));
  if (!c->ctx || !c->map) {
    ::close(fd);
    return;
  }
  modbus_set_socket(c->ctx.get(), fd);
  if (options_.idle_timeout_s > 0)
    modbus_set_indication_timeout(c->ctx.get(), static_cast<std::uint32_t>(options_.idle_timeout_s),
                                  0);
  ++counters_.connections;
  Client& ref = *c;
  clients_.push_back(std::move(c));
  ref.thread = std::thread([this, &ref] { serve_client(ref); });
}

void ModbusGateway::serve_client(Client& c) {
  std::uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
  while (!stopping_) {
    const int n = modbus_receive(c.ctx.get(), req);
    if (n > 0) {
      answer(req, n, c);
    } else if (n < 0) {
      // Closed, idle too long, or a request libmodbus could not frame: a TCP stream cannot be
      // resynchronised, so the connection ends either way.
      if (errno == EMBBADDATA || errno == EMBMDATA || errno == EMBBADEXC) ++counters_.bad_frames;
      break;
    }
  }
  // The peer sees the end now, not when the next accept reaps this thread (a client that
  // sent a bad frame waited for the close until then).
  ::shutdown(c.fd, SHUT_RDWR);
  c.done = true;
}

// Joins finished client threads (all of them, after shutting their sockets, when `all`).
void ModbusGateway::reap(bool all) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    Client& c = **it;
    if (all && !c.done) ::shutdown(c.fd, SHUT_RDWR);  // wakes its modbus_receive
    if (!all && !c.done) {
      ++it;
      continue;
    }
    if (c.thread.joinable()) c.thread.join();
    ::close(c.fd);
    it = clients_.erase(it);
  }
}

std::optional<MeterSummary> ModbusGateway::meter_at(std::uint8_t unit, UtcMicros now) {
  std::lock_guard lock(store_mutex_);
  const auto registry = store_.meters();
  const auto units = assign_units(registry, options_.config);
  const auto it = units.find(unit);
  if (it == units.end()) return std::nullopt;
  MeterSummary s;
  for (const auto& m : registry)
    if (m.id == it->second) s.info = m;
  if (const auto last = store_.last_reading(s.info.id, std::numeric_limits<UtcMicros>::max()))
    s.last = Point{last->received_at, last->epoch, last->total_kwh, last->peak_demand_counts,
                   last->demand_resets};
  s.status = meter_status(s.last, status_rule(now, options_.config.validation));
  return s;
}

void ModbusGateway::answer(const std::uint8_t* req, int len, Client& c) {
  ++counters_.requests;
  const int hl = modbus_get_header_length(c.ctx.get());  // MBAP: 7, the unit ID its last byte
  const std::uint8_t unit = req[hl - 1];
  const std::uint8_t function = req[hl];
  auto exception = [&](unsigned code) {
    ++counters_.exceptions;
    modbus_reply_exception(c.ctx.get(), req, code);
  };
  const UtcMicros now = options_.clock();
  std::optional<MeterSummary> meter;
  try {
    meter = meter_at(unit, now);
  } catch (const std::exception& e) {
    spdlog::warn("modbus: unit {}: store: {}", unit, e.what());
    return exception(MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE);
  }
  if (!meter) return exception(MODBUS_EXCEPTION_GATEWAY_TARGET);
  if (function != MODBUS_FC_READ_HOLDING_REGISTERS && function != MODBUS_FC_READ_INPUT_REGISTERS)
    return exception(MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
  // libmodbus has read the whole request for 03/04: function, address, quantity.
  const int address = be16(req + hl + 1);
  const int quantity = be16(req + hl + 3);
  if (quantity < 1 || quantity > kMaxReadRegisters)
    return exception(MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
  if (address + quantity > kRegisterCount) return exception(MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
  const auto regs = register_map(*meter, now);
  std::memcpy(c.map->tab_registers, regs.data(), sizeof regs);
  std::memcpy(c.map->tab_input_registers, regs.data(), sizeof regs);
  modbus_reply(c.ctx.get(), req, len, c.map.get());
}

}  // namespace imsm::collector::modbus
