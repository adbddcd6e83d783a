// Meter, snapshot: save/restore and the fixed 192-byte serialized form (docs/meter.md
// "Snapshot format").
#include <cstring>

#include "meter/meter.h"

namespace imsm::meter {

namespace {

void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
void put_u128(std::uint8_t* p, Uint128 v) {
  put_u64(p, static_cast<std::uint64_t>(v));
  put_u64(p + 8, static_cast<std::uint64_t>(v >> 64));
}
Uint128 get_u128(const std::uint8_t* p) {
  return static_cast<Uint128>(get_u64(p)) | static_cast<Uint128>(get_u64(p + 8)) << 64;
}
std::uint32_t fnv1a(const std::uint8_t* p, std::size_t n) {
  std::uint32_t h = 2166136261u;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

}  // namespace

MeterSnapshot Meter::snapshot() const {
  MeterSnapshot s;
  s.now_ns = now_ns_;
  s.energy_fj = energy_.fj();
  s.energy_remainder_fj = energy_.remainder_fj();
  s.demand = demand_.state();
  s.powered = powered_;
  s.power_up_ns = power_up_ns_;
  s.subinterval_start_ns = subinterval_start_ns_;
  s.subinterval_start_fj = subinterval_start_fj_;
  s.frames_sent = frames_sent_;
  return s;
}

void Meter::restore(const MeterSnapshot& s) {
  now_ns_ = s.now_ns;
  energy_.set(s.energy_fj, s.energy_remainder_fj);
  demand_.set_state(s.demand);
  powered_ = s.powered;
  input_powered_ = s.powered;
  power_up_ns_ = s.power_up_ns;
  subinterval_start_ns_ = s.subinterval_start_ns;
  subinterval_start_fj_ = s.subinterval_start_fj;
  frames_sent_ = s.frames_sent;
  key_.power_up();
  acc_ = SampleAcc{};
}

// Layout (little-endian, 192 bytes): see docs/meter.md "Snapshot format".
SnapshotBytes Meter::serialize(const MeterSnapshot& s) {
  SnapshotBytes b{};
  std::uint8_t* p = b.data();
  std::memcpy(p, "IMSM", 4);
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<std::uint8_t>(s.version >> (8 * i));
  put_u64(p + 8, static_cast<std::uint64_t>(s.now_ns));
  put_u128(p + 16, s.energy_fj);
  std::uint64_t rem = 0;
  std::memcpy(&rem, &s.energy_remainder_fj, 8);
  put_u64(p + 32, rem);
  put_u128(p + 40, s.demand.last[0]);
  put_u128(p + 56, s.demand.last[1]);
  put_u128(p + 72, s.demand.last[2]);
  put_u128(p + 88, s.demand.peak_window_fj);
  p[104] = static_cast<std::uint8_t>(s.demand.completed);
  p[105] = s.demand.resets;
  p[106] = s.powered ? 1 : 0;
  put_u64(p + 112, static_cast<std::uint64_t>(s.power_up_ns));
  put_u64(p + 120, static_cast<std::uint64_t>(s.subinterval_start_ns));
  put_u128(p + 128, s.subinterval_start_fj);
  put_u64(p + 144, s.frames_sent);
  const std::uint32_t crc = fnv1a(p, kSnapshotBytes - 4);
  for (int i = 0; i < 4; ++i)
    p[kSnapshotBytes - 4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
  return b;
}

bool Meter::deserialize(std::span<const std::uint8_t> bytes, MeterSnapshot& out) {
  if (bytes.size() != kSnapshotBytes) return false;
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, "IMSM", 4) != 0) return false;
  std::uint32_t crc = 0;
  for (int i = 0; i < 4; ++i)
    crc |= static_cast<std::uint32_t>(p[kSnapshotBytes - 4 + static_cast<std::size_t>(i)])
           << (8 * i);
  if (crc != fnv1a(p, kSnapshotBytes - 4)) return false;
  MeterSnapshot s;
  s.version = 0;
  for (int i = 0; i < 4; ++i) s.version |= static_cast<std::uint32_t>(p[4 + i]) << (8 * i);
  if (s.version != 1) return false;
  s.now_ns = static_cast<std::int64_t>(get_u64(p + 8));
  s.energy_fj = get_u128(p + 16);
  const std::uint64_t rem = get_u64(p + 32);
  std::memcpy(&s.energy_remainder_fj, &rem, 8);
  if (!(s.energy_remainder_fj >= 0 && s.energy_remainder_fj < 1)) return false;
  s.demand.last = {get_u128(p + 40), get_u128(p + 56), get_u128(p + 72)};
  s.demand.peak_window_fj = get_u128(p + 88);
  s.demand.completed = p[104];
  if (s.demand.completed > 3) return false;
  s.demand.resets = p[105];
  s.powered = p[106] != 0;
  s.power_up_ns = static_cast<std::int64_t>(get_u64(p + 112));
  s.subinterval_start_ns = static_cast<std::int64_t>(get_u64(p + 120));
  s.subinterval_start_fj = get_u128(p + 128);
  s.frames_sent = get_u64(p + 144);
  out = s;
  return true;
}

}  // namespace imsm::meter
