#include "collector/service/write_log.h"

#include <stdexcept>
#include <string>

#include "collector/store/store.h"

namespace imsm::collector::service {

namespace {
template <typename T>
void append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}
template <typename T>
void copy_range(const std::vector<T>& from, std::uint32_t a, std::uint32_t b, std::vector<T>& to) {
  to.assign(from.begin() + a, from.begin() + b);
}
}  // namespace

void WriteLog::journal(const Observation& o) {
  ops_.push_back(Op::Journal);
  obs_.push_back(o);
}

WriteLog::Ends WriteLog::ends() const {
  const auto& m = merged_;
  auto n = [](const auto& v) { return static_cast<std::uint32_t>(v.size()); };
  return {n(m.readings),  n(m.rejections), n(m.held),          n(m.released),
          n(m.retracted), n(m.events),     n(m.meters_changed)};
}

void WriteLog::apply(const Decisions& d) {
  ops_.push_back(Op::Apply);
  append(merged_.readings, d.readings);
  append(merged_.rejections, d.rejections);
  append(merged_.held, d.held);
  append(merged_.released, d.released);
  append(merged_.retracted, d.retracted);
  append(merged_.events, d.events);
  append(merged_.meters_changed, d.meters_changed);
  ends_.push_back(ends());
}

void WriteLog::registry(const CollectorConfig& config) {
  ops_.push_back(Op::Registry);
  registries_.push_back(config);
}

void WriteLog::slice(const Ends& a, const Ends& b, Decisions& out) const {
  const auto& m = merged_;
  copy_range(m.readings, a[0], b[0], out.readings);
  copy_range(m.rejections, a[1], b[1], out.rejections);
  copy_range(m.held, a[2], b[2], out.held);
  copy_range(m.released, a[3], b[3], out.released);
  copy_range(m.retracted, a[4], b[4], out.retracted);
  copy_range(m.events, a[5], b[5], out.events);
  copy_range(m.meters_changed, a[6], b[6], out.meters_changed);
}

void WriteLog::replay(Store& store, const Validator& v) const {
  std::size_t next_obs = 0, next_apply = 0, next_registry = 0;
  Ends prev{};
  Decisions d;
  for (Op op : ops_) {
    switch (op) {
      case Op::Journal: {
        Observation o = obs_[next_obs++];
        const std::int64_t first_id = o.frame_id;
        store.journal(o);
        if (o.frame_id != first_id)
          throw std::logic_error("store replay: frame journaled as " + std::to_string(first_id) +
                                 " came back as " + std::to_string(o.frame_id));
        break;
      }
      case Op::Apply: {
        const Ends& end = ends_[next_apply++];
        slice(prev, end, d);
        store.apply(d, v);
        prev = end;
        break;
      }
      case Op::Registry:
        store.save_registry(registries_[next_registry++]);
        break;
    }
  }
}

void WriteLog::clear() {
  ops_.clear();
  obs_.clear();
  merged_.clear();
  ends_.clear();
  registries_.clear();
}

}  // namespace imsm::collector::service
