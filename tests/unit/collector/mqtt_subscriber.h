// A Paho subscriber for the MQTT sink's tests: subscribes to imsmeter/# and homeassistant/#
// (waiting for the SUBACKs, so nothing published later is missed) and collects messages.
#pragma once

#include <mqtt/async_client.h>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace imsm::collector::test {

// Collects what a Paho subscriber receives; waits are handshakes with a timeout.
class Subscriber {
 public:
  explicit Subscriber(const std::string& uri) : client_(uri, "imsm-test-sub") {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      const std::lock_guard lock(mu_);
      got_.emplace_back(m->get_topic(), m->to_string());
      cv_.notify_all();
    });
    client_.connect(mqtt::connect_options_builder().clean_session(true).finalize())->wait();
    // wait() returns on SUBACK: only then can nothing published later be missed.
    client_.subscribe("imsmeter/#", 1)->wait();
    client_.subscribe("homeassistant/#", 1)->wait();
  }
  ~Subscriber() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait();
    } catch (const mqtt::exception&) {
    }
  }
  // Waits until an item with sequence number `seq` arrived on state or events.
  bool wait_for_seq(std::uint64_t seq) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& [topic, payload] : got_)
        if (is_item(topic) && nlohmann::json::parse(payload)["seq"] == seq) return true;
      return false;
    });
  }
  // Waits until `n` messages arrived on `topic`.
  bool wait_for_topic_count(const std::string& topic, std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      std::size_t k = 0;
      for (const auto& m : got_) k += m.first == topic ? 1 : 0;
      return k >= n;
    });
  }
  std::vector<std::uint64_t> seqs() {
    const std::lock_guard lock(mu_);
    std::vector<std::uint64_t> out;
    for (const auto& [topic, payload] : got_)
      if (is_item(topic)) out.push_back(nlohmann::json::parse(payload)["seq"].get<std::uint64_t>());
    return out;
  }
  std::vector<std::pair<std::string, std::string>> messages() {
    const std::lock_guard lock(mu_);
    return got_;
  }

 private:
  static bool is_item(const std::string& topic) {
    return topic.ends_with("/state") || topic.ends_with("/events");
  }
  mqtt::async_client client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, std::string>> got_;
};

}  // namespace imsm::collector::test
