#include "collector/service/source_component.h"

namespace imsm::collector::service {

namespace {
SourceContext with_stop(SourceContext ctx, const std::atomic<bool>& stop) {
  ctx.stop = &stop;
  return ctx;
}
}  // namespace

SourceComponent::SourceComponent(const SourceSpec& spec, SourceContext ctx)
    : queue_(ctx.queue), source_(make_source(spec, with_stop(ctx, thread_.stop_flag()))) {}

void SourceComponent::start() {
  thread_.start([this] { source_->run(); }, [q = queue_] { q->wake(); });
}

Health SourceComponent::health() const {
  if (done() && !source_->live()) return Health::ok();
  return source_->health();
}

}  // namespace imsm::collector::service
