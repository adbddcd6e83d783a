// A live source: a serial port or pty (`serial:PATH`, raw 9600 8N1) or an RS485-to-Ethernet
// converter (`tcp:HOST:PORT`). Bytes are stamped on arrival with the monotonic clock; quiet
// lines close bursts through StreamFramer::idle so a lone frame is emitted at once. A lost
// device or peer is a state: reopen with exponential backoff, never an exception.
#pragma once

#include "collector/sources/source.h"
#include "io/unique_fd.h"

namespace imsm::collector {

class LiveSource : public Source {
 public:
  using Source::Source;
  void run() override;
  [[nodiscard]] bool live() const override { return true; }

 private:
  [[nodiscard]] io::UniqueFd connect(std::string& error) const;
  bool sleep_unless_stopped(std::chrono::milliseconds d) const;
};

}  // namespace imsm::collector
