// The validator's decision state in the SQLite store (schema 5, table validator_state;
// docs/collector.md "Restarts"): one row per known meter (kind 0) and per unknown ID with
// candidate chains (kind 1). Each apply() encodes the state of the IDs its decisions changed
// (no validator is kept: the caller's may be gone by the commit); commit writes the newest
// encoding of each, so the state stored is always the one the stored decisions led to.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "collector/model.h"
#include "collector/validate/validator.h"

namespace imsm::collector {

class SqliteValidatorState {
 public:
  explicit SqliteValidatorState(SQLite::Database& db);

  // Inside a batch: these IDs' state changed in `v`; their state now is encoded.
  void note(const Decisions& d, const Validator& v);
  // Every ID `v` knows (the first state written after a store without one).
  void note_all(const Validator& v);
  // Before COMMIT: writes the noted IDs' current state and marks the state complete.
  void flush();
  // After ROLLBACK, and when the derived data is cleared (the rows go with it).
  void forget();
  void clear();
  // Restores every stored meter and candidate into `v`; false when the store holds no
  // complete state (a database from before schema 5, or an unreadable row): the caller then
  // restores the last readings and decides the pending frames again.
  bool load(Validator& v);

 private:
  void encode(std::uint16_t id, const Validator& v);
  void write(int kind, std::uint16_t id, const std::string& blob);
  void erase(int kind, std::uint16_t id);

  // Newest encoding per ID in this batch (empty: no such state, the row goes).
  struct Encoded {
    std::string meter, candidates;
  };
  SQLite::Database& db_;
  std::map<std::uint16_t, Encoded> batch_;
  bool any_ = false;  // a batch noted something, or was asked to write the whole state
  std::unique_ptr<SQLite::Statement> upsert_, delete_;
};

}  // namespace imsm::collector
