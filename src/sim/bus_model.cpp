#include "sim/bus_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace imsm::sim {

namespace {
constexpr std::int64_t kNsPerHour = 3600LL * 1'000'000'000;
constexpr std::uint64_t kSaltNoise = 0xB05;
constexpr std::uint64_t kSaltGarbage = 0x6A2B;
}  // namespace

BusModel::BusModel(const BusConfig& cfg, std::uint64_t seed, std::uint64_t bus_index)
    : cfg_(cfg),
      noise_rng_(Rng::derive(seed, kSaltNoise, bus_index)),
      garbage_rng_(Rng::derive(seed, kSaltGarbage, bus_index)) {
  if (cfg_.bit_error_rate > 0.0) bits_to_error_ = noise_rng_.geometric(cfg_.bit_error_rate);
  if (cfg_.byte_drop_rate > 0.0) bytes_to_drop_ = noise_rng_.geometric(cfg_.byte_drop_rate);
  next_garbage_ns_ = std::numeric_limits<std::int64_t>::max();
  if (cfg_.garbage_per_hour > 0.0) {
    const double mean_ns = static_cast<double>(kNsPerHour) / cfg_.garbage_per_hour;
    next_garbage_ns_ = static_cast<std::int64_t>(-std::log1p(-garbage_rng_.uniform()) * mean_ns);
    next_garbage_ns_ -= next_garbage_ns_ % 1000;
  }
}

void BusModel::add_frame(std::int64_t start_ns, std::uint32_t source, const protocol::RawFrame& raw,
                         std::uint64_t true_mwh, std::uint64_t registered_mwh) {
  Transmission t;
  t.true_mwh = true_mwh;
  t.registered_mwh = registered_mwh;
  t.start_ns = start_ns;
  t.source = source;
  t.len = protocol::kFrameSize;
  std::copy(raw.begin(), raw.end(), t.bytes.begin());
  pending_.push_back(t);
}

void BusModel::generate_garbage(std::int64_t horizon_ns) {
  if (cfg_.garbage_per_hour <= 0.0) return;
  const double mean_ns = static_cast<double>(kNsPerHour) / cfg_.garbage_per_hour;
  while (next_garbage_ns_ < horizon_ns) {
    Transmission t;
    t.start_ns = next_garbage_ns_;
    t.source = kGarbageSource;
    t.len = static_cast<std::uint8_t>(
        1 + garbage_rng_.below(static_cast<std::uint64_t>(cfg_.garbage_max_bytes)));
    for (std::size_t i = 0; i < t.len; ++i)
      t.bytes[i] = static_cast<std::uint8_t>(garbage_rng_.next());
    pending_.push_back(t);
    ++stats_.garbage_bursts;
    auto gap = static_cast<std::int64_t>(-std::log1p(-garbage_rng_.uniform()) * mean_ns);
    gap = std::max<std::int64_t>(gap - gap % 1000, 1000);
    next_garbage_ns_ += gap;
  }
}

void BusModel::flush(std::int64_t horizon_ns, BusOutput& out) {
  flush_impl(horizon_ns, false, out);
}

void BusModel::finish(BusOutput& out) {
  flush_impl(std::numeric_limits<std::int64_t>::max(), true, out);
}

void BusModel::flush_impl(std::int64_t horizon_ns, bool final, BusOutput& out) {
  if (!final) generate_garbage(horizon_ns);
  if (pending_.empty()) return;
  std::sort(pending_.begin(), pending_.end(), [](const Transmission& a, const Transmission& b) {
    return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.source < b.source;
  });
  std::size_t i = 0;
  const std::size_t n = pending_.size();
  while (i < n) {
    if (!final && pending_[i].start_ns >= horizon_ns) break;
    std::int64_t group_end = pending_[i].start_ns + pending_[i].len * kByteNs;
    std::size_t j = i + 1;
    while (j < n && pending_[j].start_ns < group_end) {
      group_end = std::max(group_end, pending_[j].start_ns + pending_[j].len * kByteNs);
      ++j;
    }
    // A later transmission (start >= horizon) could still join a group reaching past it.
    if (!final && group_end > horizon_ns) break;
    emit_group(i, j, out);
    i = j;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(i));
}

void BusModel::emit_group(std::size_t begin, std::size_t end, BusOutput& out) {
  const std::int64_t t0 = pending_[begin].start_ns;
  std::size_t slots = 0;
  for (std::size_t k = begin; k < end; ++k) {
    const auto first = static_cast<std::size_t>((pending_[k].start_ns - t0) / kByteNs);
    slots = std::max(slots, first + pending_[k].len);
  }
  slot_value_.assign(slots, 0);
  slot_users_.assign(slots, 0);
  slot_damaged_.assign(slots, 0);
  slot_offset_.assign(slots, 0);
  for (std::size_t k = begin; k < end; ++k) {
    const auto first = static_cast<std::size_t>((pending_[k].start_ns - t0) / kByteNs);
    for (std::size_t b = 0; b < pending_[k].len; ++b) {
      slot_value_[first + b] |= pending_[k].bytes[b];
      ++slot_users_[first + b];
    }
  }
  // Line noise and drops, slot by slot, as countdowns (cheap when rare).
  for (std::size_t s = 0; s < slots; ++s) {
    if (bits_to_error_ > 0) {
      while (bits_to_error_ <= 8) {
        slot_value_[s] ^= static_cast<std::uint8_t>(1u << (bits_to_error_ - 1));
        slot_damaged_[s] |= 1;
        ++stats_.bits_flipped;
        const std::uint64_t next = noise_rng_.geometric(cfg_.bit_error_rate);
        bits_to_error_ = next > UINT64_MAX - bits_to_error_ ? UINT64_MAX : bits_to_error_ + next;
      }
      bits_to_error_ -= 8;
    }
    if (bytes_to_drop_ > 0) {
      if (--bytes_to_drop_ == 0) {
        slot_damaged_[s] |= 2;
        ++stats_.bytes_dropped;
        bytes_to_drop_ = noise_rng_.geometric(cfg_.byte_drop_rate);
      }
    }
  }
  // Put the surviving bytes on the wire.
  for (std::size_t s = 0; s < slots; ++s) {
    slot_offset_[s] = offset_;
    if (slot_damaged_[s] & 2) continue;
    const std::int64_t t = t0 + static_cast<std::int64_t>(s) * kByteNs;
    if (last_byte_ns_ < 0 || t != last_byte_ns_ + kByteNs || out.marks.empty() || out.bytes.empty())
      out.marks.push_back(io::BurstMark{offset_, t});
    out.bytes.push_back(slot_value_[s]);
    last_byte_ns_ = t;
    ++offset_;
    ++stats_.bytes;
  }
  // The truth of every frame in the group.
  for (std::size_t k = begin; k < end; ++k) {
    const Transmission& t = pending_[k];
    if (t.source == kGarbageSource) continue;
    const auto first = static_cast<std::size_t>((t.start_ns - t0) / kByteNs);
    TruthRecord r;
    r.t_ns = t.start_ns;
    r.source = t.source;
    std::copy(t.bytes.begin(), t.bytes.begin() + protocol::kFrameSize, r.raw.begin());
    r.offset = slot_offset_[first];
    r.true_mwh = t.true_mwh;
    r.registered_mwh = t.registered_mwh;
    bool collided = false, noisy = false;
    for (std::size_t b = 0; b < t.len; ++b) {
      collided |= slot_users_[first + b] > 1;
      noisy |= slot_damaged_[first + b] != 0;
    }
    r.intact = !collided && !noisy;
    ++stats_.frames;
    if (collided)
      ++stats_.frames_collided;
    else if (noisy)
      ++stats_.frames_noisy;
    out.frames.push_back(r);
  }
}

}  // namespace imsm::sim
