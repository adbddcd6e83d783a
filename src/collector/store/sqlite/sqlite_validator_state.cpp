#include "collector/store/sqlite/sqlite_validator_state.h"

#include <spdlog/spdlog.h>

#include <string>

#include "collector/validate/validator_state.h"

namespace imsm::collector {

namespace {
constexpr int kMeter = 0;
constexpr int kCandidates = 1;
constexpr int kSharedUnknown = 2;
}  // namespace

SqliteValidatorState::SqliteValidatorState(SQLite::Database& db) : db_(db) {
  upsert_ = std::make_unique<SQLite::Statement>(
      db_, "INSERT OR REPLACE INTO validator_state(kind, id, state) VALUES (?,?,?)");
  delete_ = std::make_unique<SQLite::Statement>(
      db_, "DELETE FROM validator_state WHERE kind = ? AND id = ?");
}

void SqliteValidatorState::encode(std::uint16_t id, const Validator& v) {
  Encoded& e = batch_[id];
  const MeterState* m = v.meter(id);
  e.meter = m ? encode_meter_state(*m) : std::string{};
  const auto chains = v.candidates(id);
  e.candidates = chains.empty() ? std::string{} : encode_candidates(chains);
  const auto shared = v.shared_unknown(id);
  e.shared = shared.empty() ? std::string{} : encode_candidates({shared});
}

void SqliteValidatorState::mark(std::uint16_t id) {
  if (is_marked_[id]) return;
  is_marked_[id] = true;
  marked_.push_back(id);
}

void SqliteValidatorState::encode_marked() {
  for (std::uint16_t id : marked_) {
    encode(id, *noted_by_);
    is_marked_[id] = false;
  }
  marked_.clear();
  noted_by_ = nullptr;
}

void SqliteValidatorState::note(const Decisions& d, const Validator& v) {
  any_ = true;
  if (noted_by_ != nullptr && noted_by_ != &v) encode_marked();
  noted_by_ = &v;
  for (std::uint16_t id : d.state_changed) mark(id);
  for (std::uint16_t id : d.meters_changed) mark(id);
}

void SqliteValidatorState::note_all(const Validator& v) {
  any_ = true;
  if (noted_by_ != nullptr) encode_marked();
  for (const auto& [id, m] : v.meters()) encode(id, v);
  for (std::uint16_t id : v.provisional_id_list()) encode(id, v);
}

void SqliteValidatorState::write(int kind, std::uint16_t id, const std::string& blob) {
  upsert_->bind(1, kind);
  upsert_->bind(2, static_cast<int>(id));
  upsert_->bind(3, blob.data(), static_cast<int>(blob.size()));
  upsert_->exec();
  upsert_->reset();
}

void SqliteValidatorState::erase(int kind, std::uint16_t id) {
  delete_->bind(1, kind);
  delete_->bind(2, static_cast<int>(id));
  delete_->exec();
  delete_->reset();
}

void SqliteValidatorState::flush() {
  if (!any_) return;
  if (noted_by_ != nullptr) encode_marked();
  for (const auto& [id, e] : batch_) {
    if (!e.meter.empty())
      write(kMeter, id, e.meter);
    else
      erase(kMeter, id);
    if (!e.candidates.empty())
      write(kCandidates, id, e.candidates);
    else
      erase(kCandidates, id);
    if (!e.shared.empty())
      write(kSharedUnknown, id, e.shared);
    else
      erase(kSharedUnknown, id);
  }
  db_.exec(
      "INSERT INTO store_meta(key, value) VALUES ('validator_state', 1) "
      "ON CONFLICT(key) DO UPDATE SET value = 1");
  forget();
}

void SqliteValidatorState::forget() {
  upsert_->tryReset();
  delete_->tryReset();
  batch_.clear();
  for (std::uint16_t id : marked_) is_marked_[id] = false;
  marked_.clear();
  noted_by_ = nullptr;
  any_ = false;
}

void SqliteValidatorState::clear() {
  forget();
  db_.exec("DELETE FROM validator_state; DELETE FROM store_meta WHERE key = 'validator_state'");
}

bool SqliteValidatorState::load(Validator& v) {
  SQLite::Statement complete(db_, "SELECT value FROM store_meta WHERE key = 'validator_state'");
  if (!complete.executeStep() || complete.getColumn(0).getInt() != 1) return false;
  std::vector<MeterState> meters;
  std::vector<std::pair<std::uint16_t, CandidateChains>> candidates;
  std::vector<std::pair<std::uint16_t, std::vector<Observation>>> shared;
  SQLite::Statement q(db_, "SELECT kind, id, state FROM validator_state ORDER BY kind, id");
  while (q.executeStep()) {
    const auto col = q.getColumn(2);
    const std::string_view blob(static_cast<const char*>(col.getBlob()),
                                static_cast<std::size_t>(col.getBytes()));
    const int kind = q.getColumn(0).getInt();
    const auto id = static_cast<std::uint16_t>(q.getColumn(1).getInt());
    bool ok = false;
    if (kind == kMeter) {
      if (auto m = decode_meter_state(blob); m && m->id == id) {
        meters.push_back(std::move(*m));
        ok = true;
      }
    } else if (kind == kCandidates) {
      if (auto c = decode_candidates(blob)) {
        candidates.emplace_back(id, std::move(*c));
        ok = true;
      }
    } else if (kind == kSharedUnknown) {
      if (auto c = decode_candidates(blob); c && c->size() == 1) {
        shared.emplace_back(id, std::move(c->front()));
        ok = true;
      }
    }
    if (!ok) {
      spdlog::warn(
          "store: the validator's stored state of ID {} is unreadable; deciding the "
          "pending frames again instead",
          id);
      return false;
    }
  }
  for (const auto& m : meters) v.restore(m);
  for (const auto& [id, chains] : candidates) v.restore_candidates(id, chains);
  for (const auto& [id, frames] : shared) v.restore_shared_unknown(id, frames);
  return true;
}

}  // namespace imsm::collector
