// A source as a Component: its blocking reads run in a JoiningThread owned here (joined in
// the destructor before the source goes, whatever unwinds), configure() opens it,
// health() is the source's own (degraded while a live source reopens).
#pragma once

#include <memory>
#include <string>

#include "collector/service/component.h"
#include "collector/service/joining_thread.h"
#include "collector/sources/source.h"

namespace imsm::collector::service {

class SourceComponent final : public Component {
 public:
  // `ctx.stop` is replaced by this component's thread's flag.
  SourceComponent(const SourceSpec& spec, SourceContext ctx);
  ~SourceComponent() override { thread_.stop_and_join(); }

  [[nodiscard]] std::string name() const override { return "source " + source_->spec().name; }
  void configure() override { source_->open(); }
  void start() override;
  void stop() noexcept override { thread_.stop_and_join(); }
  [[nodiscard]] Health health() const override;
  [[nodiscard]] bool done() const override { return source_->finished(); }

  [[nodiscard]] const Source& source() const { return *source_; }

 private:
  ObservationQueue* queue_;
  std::unique_ptr<Source> source_;  // its context points at thread_'s stop flag
  JoiningThread thread_;            // last: destroyed (joined) first
};

}  // namespace imsm::collector::service
