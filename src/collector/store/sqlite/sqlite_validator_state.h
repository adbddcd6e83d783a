// The validator's decision state in the SQLite store (schema 5, table validator_state;
// docs/collector.md "Restarts"): one row per known meter (kind 0), per unknown ID with
// candidate chains (kind 1) and per unknown ID with frames from shared bursts waiting for it
// (kind 2). Each apply() notes the IDs its decisions changed; commit encodes each noted ID
// once, from the validator that decided it, so the state stored is always the one the stored
// decisions led to. A replay batch changes each meter hundreds of times: one encoding per
// commit, not per frame (it was 13% of collect's CPU). The validator given to note() must
// outlive the next flush(), or the next note() with another validator (which encodes what
// the first one decided before switching).
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/model.h"
#include "collector/validate/validator.h"

namespace imsm::collector {

class SqliteValidatorState {
 public:
  explicit SqliteValidatorState(SQLite::Database& db);

  // Inside a batch: these IDs' state changed in `v` (encoded at flush()).
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
  void mark(std::uint16_t id);
  void encode_marked();  // from noted_by_, then forgets who noted them
  void write(int kind, std::uint16_t id, const std::string& blob);
  void erase(int kind, std::uint16_t id);

  // Newest encoding per ID in this batch (empty: no such state, the row goes).
  struct Encoded {
    std::string meter, candidates, shared;
  };
  SQLite::Database& db_;
  std::map<std::uint16_t, Encoded> batch_;
  // IDs noted but not yet encoded, and the validator whose state they are in.
  std::vector<std::uint16_t> marked_;
  std::vector<bool> is_marked_ = std::vector<bool>(65536, false);
  const Validator* noted_by_ = nullptr;
  bool any_ = false;  // a batch noted something, or was asked to write the whole state
  std::unique_ptr<SQLite::Statement> upsert_, delete_;
};

}  // namespace imsm::collector
