#include "collector/sinks/jsonl_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "collector/sinks/outbox_json.h"
#include "io/unique_fd.h"

namespace imsm::collector {

namespace {

class JsonlSink final : public Sink {
 public:
  explicit JsonlSink(std::string target) : target_(std::move(target)), name_("jsonl:" + target_) {
    if (target_ == "-") {
      fd_ = io::UniqueFd(::dup(STDOUT_FILENO));
      is_file_ = false;
    } else {
      fd_ = io::UniqueFd(::open(target_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    }
    if (!fd_) throw std::runtime_error(target_ + ": " + std::strerror(errno));
  }

  const std::string& name() const override { return name_; }

  std::uint64_t consume(const std::vector<OutboxItem>& batch) override {
    if (batch.empty()) return 0;
    std::string text;
    for (const auto& item : batch) {
      text += outbox_json(item);
      text += '\n';
    }
    if (!io::write_all(fd_.get(), text.data(), text.size()))
      throw std::runtime_error(target_ + ": " + std::strerror(errno));
    if (is_file_ && ::fdatasync(fd_.get()) != 0)
      throw std::runtime_error(target_ + ": " + std::strerror(errno));
    return batch.back().seq;
  }

 private:
  std::string target_, name_;
  io::UniqueFd fd_;
  bool is_file_ = true;
};

}  // namespace

std::unique_ptr<Sink> make_jsonl_sink(const std::string& target) {
  return std::make_unique<JsonlSink>(target);
}

}  // namespace imsm::collector
