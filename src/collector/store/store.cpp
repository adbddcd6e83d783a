#include "collector/store/store.h"

#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace imsm::collector {

namespace {

// Versioned migrations: migration i brings the schema from version i to i + 1.
constexpr const char* kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE sources(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  bytes_in INTEGER NOT NULL DEFAULT 0,
  frames INTEGER NOT NULL DEFAULT 0,
  shared_frames INTEGER NOT NULL DEFAULT 0,
  skipped_no_stop INTEGER NOT NULL DEFAULT 0,
  skipped_padding INTEGER NOT NULL DEFAULT 0,
  skipped_gap INTEGER NOT NULL DEFAULT 0,
  skipped_end INTEGER NOT NULL DEFAULT 0,
  reconnects INTEGER NOT NULL DEFAULT 0,
  last_offset INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE meters(
  id INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 65535),
  registered INTEGER NOT NULL DEFAULT 0,
  model TEXT NOT NULL DEFAULT '',
  label TEXT NOT NULL DEFAULT '',
  tenant TEXT NOT NULL DEFAULT '',
  location TEXT NOT NULL DEFAULT '',
  tariff TEXT NOT NULL DEFAULT '',
  discovered_at_us INTEGER,
  epoch INTEGER NOT NULL DEFAULT 0,
  silent INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE frames(
  id INTEGER PRIMARY KEY,
  received_at_us INTEGER NOT NULL,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  stream_offset INTEGER NOT NULL,
  burst INTEGER NOT NULL,
  raw BLOB NOT NULL CHECK (length(raw) = 12)
);
CREATE TABLE readings(
  meter_id INTEGER NOT NULL REFERENCES meters(id),
  received_at_us INTEGER NOT NULL,
  frame_id INTEGER NOT NULL REFERENCES frames(id),
  epoch INTEGER NOT NULL,
  total_kwh INTEGER NOT NULL,
  kwh24 INTEGER NOT NULL,
  peak_demand_counts INTEGER NOT NULL,
  demand_resets INTEGER NOT NULL,
  PRIMARY KEY(meter_id, received_at_us, frame_id)
) WITHOUT ROWID;
CREATE TABLE rejected(
  frame_id INTEGER PRIMARY KEY REFERENCES frames(id),
  meter_id INTEGER NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE pending(
  frame_id INTEGER PRIMARY KEY REFERENCES frames(id)
);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  kind TEXT NOT NULL,
  meter_id INTEGER,
  source_id INTEGER REFERENCES sources(id),
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_time ON events(at_us);
CREATE INDEX events_by_meter ON events(meter_id, at_us);
)sql",
    // 1 -> 2: one row per reading. A reading's derived columns live on its journal row
    // (NULL for frames that are not readings); `readings` becomes a view of those rows,
    // ordered by meter and time through a partial index. The ingest writes one row per frame.
    R"sql(
ALTER TABLE frames ADD COLUMN meter_id INTEGER REFERENCES meters(id);
ALTER TABLE frames ADD COLUMN epoch INTEGER;
ALTER TABLE frames ADD COLUMN total_kwh INTEGER;
ALTER TABLE frames ADD COLUMN kwh24 INTEGER;
ALTER TABLE frames ADD COLUMN peak_demand_counts INTEGER;
ALTER TABLE frames ADD COLUMN demand_resets INTEGER;
UPDATE frames SET meter_id = r.meter_id, epoch = r.epoch, total_kwh = r.total_kwh,
  kwh24 = r.kwh24, peak_demand_counts = r.peak_demand_counts, demand_resets = r.demand_resets
  FROM readings r WHERE r.frame_id = frames.id;
DROP TABLE readings;
CREATE INDEX readings_by_meter ON frames(meter_id, received_at_us) WHERE meter_id IS NOT NULL;
CREATE VIEW readings AS
  SELECT meter_id, received_at_us, id AS frame_id, epoch, total_kwh, kwh24,
         peak_demand_counts, demand_resets
  FROM frames WHERE meter_id IS NOT NULL;
)sql",
    // 2 -> 3: readings in blocks of one meter and one UTC hour (reading_blocks.h); the
    // journal keeps only the frame; events raised by a retracted reading are marked. `frames` is
    // rebuilt without the reading columns (their
    // foreign key forbids DROP COLUMN), with foreign keys off during the migration.
    R"sql(
CREATE TABLE reading_blocks(
  id INTEGER PRIMARY KEY,
  meter_id INTEGER NOT NULL REFERENCES meters(id),
  hour INTEGER NOT NULL,
  n INTEGER NOT NULL,
  readings TEXT NOT NULL
);
CREATE UNIQUE INDEX reading_blocks_by_meter ON reading_blocks(meter_id, hour);
INSERT INTO reading_blocks(meter_id, hour, n, readings)
  SELECT meter_id, h, count(*),
         json_group_array(json_array(received_at_us, id, epoch, total_kwh, kwh24,
                                     peak_demand_counts, demand_resets))
  FROM (SELECT *, (received_at_us - (received_at_us < 0) * 3599999999) / 3600000000 AS h
        FROM frames WHERE meter_id IS NOT NULL ORDER BY meter_id, received_at_us, id)
  GROUP BY meter_id, h;
DROP VIEW readings;
DROP INDEX readings_by_meter;
CREATE TABLE frames_v3(
  id INTEGER PRIMARY KEY,
  received_at_us INTEGER NOT NULL,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  stream_offset INTEGER NOT NULL,
  burst INTEGER NOT NULL,
  raw BLOB NOT NULL CHECK (length(raw) = 12)
);
INSERT INTO frames_v3 SELECT id, received_at_us, source_id, stream_offset, burst, raw FROM frames;
DROP TABLE frames;
ALTER TABLE frames_v3 RENAME TO frames;
ALTER TABLE events ADD COLUMN retracted INTEGER NOT NULL DEFAULT 0;
CREATE VIEW readings AS
  SELECT b.meter_id AS meter_id,
         json_extract(j.value, '$[0]') AS received_at_us,
         json_extract(j.value, '$[1]') AS frame_id,
         json_extract(j.value, '$[2]') AS epoch,
         json_extract(j.value, '$[3]') AS total_kwh,
         json_extract(j.value, '$[4]') AS kwh24,
         json_extract(j.value, '$[5]') AS peak_demand_counts,
         json_extract(j.value, '$[6]') AS demand_resets
  FROM reading_blocks b, json_each(b.readings) j;
)sql",
};

int open_flags(const StoreOptions& o) {
  return o.read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
}

}  // namespace

namespace {
// Before the first connection: no global memory statistics (they take a mutex on every
// allocation). Later calls are refused by SQLite (SQLITE_MISUSE) and change nothing.
bool configure_sqlite() {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return true;
}
std::string configured(const std::string& path) {
  static const bool once = configure_sqlite();
  static_cast<void>(once);
  return path;
}
}  // namespace

Store::Store(const std::string& path, StoreOptions options)
    : db_(configured(path), open_flags(options) | SQLITE_OPEN_NOMUTEX, options.busy_timeout_ms),
      options_(options) {
  db_.exec("PRAGMA foreign_keys = ON");
  if (!options_.read_only) {
    // 16 KiB pages for a new database (an existing one keeps its page size): shallower
    // B-trees, fewer pages written per commit; must precede the switch to WAL.
    db_.exec("PRAGMA page_size = 16384");
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec(options_.synchronous_full ? "PRAGMA synchronous = FULL"
                                       : "PRAGMA synchronous = NORMAL");
    db_.exec(fmt::format("PRAGMA cache_size = -{}", options_.cache_kib));
    // Statement journals and sorts in memory: a statement journal spilled to a temp file
    // cost one write per touched page.
    db_.exec("PRAGMA temp_store = MEMORY");
    // The WAL file is truncated back to 64 MiB when the log restarts after a checkpoint.
    db_.exec("PRAGMA journal_size_limit = 67108864");
    migrate();
    // Checkpoint when the WAL reaches 64 MiB rather than SQLite's 1000 pages: a replay
    // commits a second of rows at a time, and pages rewritten by several commits (the
    // meters' last readings pages, interior pages) are then copied into the database once
    // per checkpoint rather than once per commit. The file is truncated back to the same
    // size (journal_size_limit) when the log restarts.
    const auto page = db_.execAndGet("PRAGMA page_size").getInt64();
    db_.exec(fmt::format("PRAGMA wal_autocheckpoint = {}",
                         (64 << 20) / std::max<std::int64_t>(page, 512)));
  } else if (schema_version() != kSchemaVersion) {
    throw std::runtime_error(
        fmt::format("{}: not an imsmeter database (schema version {}, want {})", path,
                    schema_version(), kSchemaVersion));
  }
  prepare();
}

Store::~Store() {
  if (in_tx_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

int Store::schema_version() {
  return db_.execAndGet("PRAGMA user_version").getInt();
}

void Store::migrate() {
  const int have = schema_version();
  if (have > kSchemaVersion)
    throw std::runtime_error(fmt::format("{}: schema version {} is newer than this imsmeter ({})",
                                         db_.getFilename(), have, kSchemaVersion));
  if (have == kSchemaVersion) return;
  // Foreign keys off while tables are rebuilt (SQLite's procedure for changing a table's
  // shape; the pragma is a no-op inside a transaction), checked before each commit.
  db_.exec("PRAGMA foreign_keys = OFF");
  for (int v = have; v < kSchemaVersion; ++v) {
    SQLite::Transaction tx(db_);
    db_.exec(kMigrations[v]);
    db_.exec(fmt::format("PRAGMA user_version = {}", v + 1));
    SQLite::Statement check(db_, "PRAGMA foreign_key_check");
    if (check.executeStep())
      throw std::runtime_error(fmt::format("{}: migration to schema {} breaks a foreign key in {}",
                                           db_.getFilename(), v + 1,
                                           check.getColumn(0).getString()));
    tx.commit();
  }
  db_.exec("PRAGMA foreign_keys = ON");
}

void Store::prepare() {
  next_frame_id_ = db_.execAndGet("SELECT coalesce(max(id), 0) + 1 FROM frames").getInt64();
  next_event_id_ = db_.execAndGet("SELECT coalesce(max(id), 0) + 1 FROM events").getInt64();
  blocks_ = std::make_unique<ReadingBlocks>(db_);
  if (options_.read_only) return;
  ins_frame_ = std::make_unique<SQLite::Statement>(
      db_,
      "INSERT INTO frames(id, received_at_us, source_id, stream_offset, burst, raw) "
      "VALUES (?,?,?,?,?,?)");
  ins_rejected_ = std::make_unique<SQLite::Statement>(
      db_, "INSERT OR REPLACE INTO rejected(frame_id, meter_id, reason, detail) VALUES (?,?,?,?)");
  ins_pending_ = std::make_unique<SQLite::Statement>(
      db_, "INSERT OR IGNORE INTO pending(frame_id) VALUES (?)");
  del_pending_ = std::make_unique<SQLite::Statement>(db_, "DELETE FROM pending WHERE frame_id = ?");
  retract_events_ = std::make_unique<SQLite::Statement>(
      db_,
      "UPDATE events SET retracted = 1 WHERE meter_id = ? AND at_us = ? "
      "AND kind IN ('demand_reset', 'rollover')");
  ins_event_ = std::make_unique<SQLite::Statement>(
      db_, "INSERT INTO events(id, at_us, kind, meter_id, source_id, detail) VALUES (?,?,?,?,?,?)");
  upsert_meter_ = std::make_unique<SQLite::Statement>(
      db_,
      "INSERT INTO meters(id, registered, discovered_at_us, epoch, silent) VALUES (?,?,?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET discovered_at_us = excluded.discovered_at_us, "
      "epoch = excluded.epoch, silent = excluded.silent");
}

void Store::begin() {
  if (in_tx_) return;
  db_.exec("BEGIN IMMEDIATE");
  in_tx_ = true;
  begin_frame_id_ = next_frame_id_;
  begin_event_id_ = next_event_id_;
}

void Store::commit() {
  if (!in_tx_) return;
  flush_journal();
  blocks_->flush();
  db_.exec("COMMIT");
  in_tx_ = false;
}

// Back to the state at begin(): a replay of the same calls hands out the same ids.
void Store::rollback() {
  unwritten_.reset();
  blocks_->forget();
  // A statement whose step threw is left mid-step: reset it so a replay can bind it again.
  for (auto* st : {&ins_frame_, &ins_rejected_, &ins_pending_, &del_pending_, &ins_event_,
                   &retract_events_, &upsert_meter_})
    if (*st) (*st)->tryReset();
  if (!in_tx_) return;
  next_frame_id_ = begin_frame_id_;
  next_event_id_ = begin_event_id_;
  in_tx_ = false;
  db_.exec("ROLLBACK");
}

std::uint32_t Store::source_id(const std::string& name) {
  SQLite::Statement ins(db_, "INSERT OR IGNORE INTO sources(name) VALUES (?)");
  ins.bind(1, name);
  ins.exec();
  SQLite::Statement q(db_, "SELECT id FROM sources WHERE name = ?");
  q.bind(1, name);
  q.executeStep();
  return static_cast<std::uint32_t>(q.getColumn(0).getInt64());
}

SourceCounters Store::source_counters(std::uint32_t id) {
  SQLite::Statement q(
      db_,
      "SELECT bytes_in, frames, shared_frames, skipped_no_stop, skipped_padding, "
      "skipped_gap, skipped_end, reconnects, last_offset FROM sources WHERE id = ?");
  q.bind(1, static_cast<std::int64_t>(id));
  SourceCounters c;
  if (q.executeStep()) {
    auto u = [&](int i) { return static_cast<std::uint64_t>(q.getColumn(i).getInt64()); };
    c = SourceCounters{u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7), u(8)};
  }
  return c;
}

void Store::save_source_counters(std::uint32_t id, const SourceCounters& c) {
  SQLite::Statement u(
      db_,
      "UPDATE sources SET bytes_in=?, frames=?, shared_frames=?, skipped_no_stop=?, "
      "skipped_padding=?, skipped_gap=?, skipped_end=?, reconnects=?, "
      "last_offset=? WHERE id=?");
  int i = 1;
  for (std::uint64_t v :
       {c.bytes_in, c.frames, c.shared_frames, c.skipped_no_stop, c.skipped_padding, c.skipped_gap,
        c.skipped_end, c.reconnects, c.last_offset})
    u.bind(i++, static_cast<std::int64_t>(v));
  u.bind(i, static_cast<std::int64_t>(id));
  u.exec();
}

void Store::save_registry(const CollectorConfig& config) {
  SQLite::Statement u(
      db_,
      "INSERT INTO meters(id, registered, model, label, tenant, location, tariff) "
      "VALUES (?,1,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET registered=1, model=excluded.model, "
      "label=excluded.label, tenant=excluded.tenant, location=excluded.location, "
      "tariff=excluded.tariff");
  for (const auto& m : config.meters) {
    u.bind(1, static_cast<int>(m.id));
    u.bind(2, m.model);
    u.bind(3, m.label);
    u.bind(4, m.tenant);
    u.bind(5, m.location);
    u.bind(6, m.tariff);
    u.exec();
    u.reset();
  }
}

// The frame's id is taken now (the validator names it); the row is written by the next
// apply() or commit(), in the same transaction, before the rows that refer to it.
void Store::journal(Observation& obs) {
  flush_journal();
  obs.frame_id = next_frame_id_++;
  unwritten_ = obs;
}

// One prepared single-row INSERT per row, bound, stepped and reset. (Multi-row INSERTs were
// slower: a statement that writes several rows needs a statement journal, a copy of every page
// it touches, so that it can be undone alone; a single-row INSERT needs none.)
void Store::flush_journal() {
  if (!unwritten_) return;
  auto& s = *ins_frame_;
  const Observation& obs = *unwritten_;
  s.bind(1, obs.frame_id);
  s.bind(2, obs.received_at);
  s.bind(3, static_cast<std::int64_t>(obs.source_id));
  s.bind(4, static_cast<std::int64_t>(obs.stream_offset));
  s.bind(5, static_cast<int>(obs.burst));
  s.bindNoCopy(6, obs.raw.data(), static_cast<int>(obs.raw.size()));
  s.exec();
  s.reset();
  unwritten_.reset();
}

void Store::upsert_meter(const MeterState& m) {
  auto& s = *upsert_meter_;
  s.bind(1, static_cast<int>(m.id));
  s.bind(2, m.registered ? 1 : 0);
  if (m.discovered_at)
    s.bind(3, *m.discovered_at);
  else
    s.bind(3);
  s.bind(4, static_cast<std::int64_t>(m.epoch));
  s.bind(5, m.silent ? 1 : 0);
  s.exec();
  s.reset();
}

void Store::apply(const Decisions& d, const Validator& v) {
  // Meter rows first: readings refer to them.
  for (std::uint16_t id : d.meters_changed)
    if (const MeterState* m = v.meter(id)) upsert_meter(*m);
  // The frame journaled last is written first: rejections and pending rows refer to it.
  flush_journal();
  for (const Reading& r : d.readings) blocks_->add(r);
  for (const Reading& r : d.retracted) {
    blocks_->remove(r);
    // What the reading alone raised is void with it (its frame's time and meter name them).
    auto& s = *retract_events_;
    s.bind(1, static_cast<int>(r.meter_id));
    s.bind(2, r.received_at);
    s.exec();
    s.reset();
  }
  for (const Rejection& r : d.rejections) {
    auto& s = *ins_rejected_;
    s.bind(1, r.frame_id);
    s.bind(2, static_cast<int>(r.meter_id));
    s.bind(3, to_string(r.reason));
    s.bind(4, r.detail);
    s.exec();
    s.reset();
  }
  for (std::int64_t id : d.released) {
    del_pending_->bind(1, id);
    del_pending_->exec();
    del_pending_->reset();
  }
  for (std::int64_t id : d.held) {
    ins_pending_->bind(1, id);
    ins_pending_->exec();
    ins_pending_->reset();
  }
  for (const Event& e : d.events) {
    auto& s = *ins_event_;
    s.bind(1, next_event_id_++);
    s.bind(2, e.at);
    s.bind(3, to_string(e.kind));
    if (e.meter_id)
      s.bind(4, static_cast<int>(*e.meter_id));
    else
      s.bind(4);
    if (e.source_id)
      s.bind(5, static_cast<std::int64_t>(*e.source_id));
    else
      s.bind(5);
    s.bind(6, e.detail.json());
    s.exec();
    s.reset();
  }
}

std::vector<MeterState> Store::load_meter_states() {
  std::vector<MeterState> out;
  SQLite::Statement q(db_, "SELECT id, registered, discovered_at_us, epoch, silent FROM meters");
  while (q.executeStep()) {
    MeterState m;
    m.id = static_cast<std::uint16_t>(q.getColumn(0).getInt());
    m.registered = q.getColumn(1).getInt() != 0;
    if (!q.getColumn(2).isNull()) m.discovered_at = q.getColumn(2).getInt64();
    m.epoch = static_cast<std::uint32_t>(q.getColumn(3).getInt64());
    m.silent = q.getColumn(4).getInt() != 0;
    out.push_back(std::move(m));
  }
  for (MeterState& m : out) {
    if (const auto last = last_reading(m.id, std::numeric_limits<UtcMicros>::max(), m.epoch)) {
      m.has_last = true;
      m.last_at = last->received_at;
      m.last_total_kwh = last->total_kwh;
      m.last_kwh24 = last->kwh24;
      m.last_peak = last->peak_demand_counts;
      m.last_resets = last->demand_resets;
    }
  }
  return out;
}

namespace {
Observation observation_from(SQLite::Statement& q) {
  Observation o;
  o.frame_id = q.getColumn(0).getInt64();
  o.received_at = q.getColumn(1).getInt64();
  o.source_id = static_cast<std::uint32_t>(q.getColumn(2).getInt64());
  o.stream_offset = static_cast<std::uint64_t>(q.getColumn(3).getInt64());
  o.burst = static_cast<protocol::Burst>(q.getColumn(4).getInt());
  const auto& blob = q.getColumn(5);
  if (blob.getBytes() == static_cast<int>(o.raw.size()))
    std::memcpy(o.raw.data(), blob.getBlob(), o.raw.size());
  return o;
}
}  // namespace

void Store::each_frame(const std::function<void(const Observation&)>& fn) {
  flush_journal();
  SQLite::Statement q(db_,
                      "SELECT id, received_at_us, source_id, stream_offset, burst, raw FROM frames "
                      "ORDER BY id");
  while (q.executeStep()) fn(observation_from(q));
}

std::vector<Observation> Store::load_pending() {
  std::vector<Observation> out;
  SQLite::Statement q(db_,
                      "SELECT f.id, f.received_at_us, f.source_id, f.stream_offset, f.burst, f.raw "
                      "FROM pending p JOIN frames f ON f.id = p.frame_id ORDER BY f.id");
  while (q.executeStep()) out.push_back(observation_from(q));
  return out;
}

std::vector<MeterInfo> Store::meters() {
  std::vector<MeterInfo> out;
  SQLite::Statement q(db_,
                      "SELECT id, registered, model, label, tenant, location, tariff, "
                      "discovered_at_us, epoch, silent FROM meters ORDER BY id");
  while (q.executeStep()) {
    MeterInfo m;
    m.id = static_cast<std::uint16_t>(q.getColumn(0).getInt());
    m.registered = q.getColumn(1).getInt() != 0;
    m.model = q.getColumn(2).getString();
    m.label = q.getColumn(3).getString();
    m.tenant = q.getColumn(4).getString();
    m.location = q.getColumn(5).getString();
    m.tariff = q.getColumn(6).getString();
    if (!q.getColumn(7).isNull()) m.discovered_at = q.getColumn(7).getInt64();
    m.epoch = static_cast<std::uint32_t>(q.getColumn(8).getInt64());
    m.silent = q.getColumn(9).getInt() != 0;
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<MeterInfo> Store::meter(std::uint16_t id) {
  for (auto& m : meters())
    if (m.id == id) return m;
  return std::nullopt;
}

void Store::each_meter_reading(std::uint16_t meter, UtcMicros from, UtcMicros to,
                               const std::function<void(const Reading&)>& fn) {
  if (from >= to) return;
  blocks_->flush();
  blocks_->each_block(meter, block_hour(from), block_hour(to - 1), false,
                      [&](const std::vector<Reading>& rows) {
                        for (const Reading& r : rows)
                          if (r.received_at >= from && r.received_at < to) fn(r);
                        return true;
                      });
}

void Store::each_reading(std::optional<std::uint16_t> meter, UtcMicros from, UtcMicros to,
                         const std::function<void(const StoredReading&)>& fn) {
  SQLite::Statement frame(db_,
                          "SELECT f.source_id, s.name, f.raw FROM frames f "
                          "JOIN sources s ON s.id = f.source_id WHERE f.id = ?");
  std::vector<std::uint16_t> ids;
  if (meter) {
    ids.push_back(*meter);
  } else {
    for (const auto& m : meters()) ids.push_back(m.id);
  }
  StoredReading s;
  for (std::uint16_t id : ids) {
    each_meter_reading(id, from, to, [&](const Reading& r) {
      s.r = r;
      s.source.clear();
      s.raw = {};
      frame.bind(1, r.frame_id);
      if (frame.executeStep()) {
        s.r.source_id = static_cast<std::uint32_t>(frame.getColumn(0).getInt64());
        s.source = frame.getColumn(1).getString();
        const auto& blob = frame.getColumn(2);
        if (blob.getBytes() == static_cast<int>(s.raw.size()))
          std::memcpy(s.raw.data(), blob.getBlob(), s.raw.size());
      }
      frame.reset();
      fn(s);
    });
  }
}

std::optional<Reading> Store::last_reading(std::uint16_t meter, UtcMicros before,
                                           std::optional<std::uint32_t> epoch) {
  blocks_->flush();
  std::optional<Reading> found;
  if (before == std::numeric_limits<UtcMicros>::min()) return found;
  blocks_->each_block(meter, std::numeric_limits<std::int64_t>::min(), block_hour(before - 1), true,
                      [&](const std::vector<Reading>& rows) {
                        for (auto it = rows.rbegin(); it != rows.rend(); ++it)
                          if (it->received_at < before && (!epoch || it->epoch == *epoch)) {
                            found = *it;
                            return false;
                          }
                        return true;
                      });
  return found;
}

std::optional<Reading> Store::first_reading_after(std::uint16_t meter, UtcMicros after) {
  blocks_->flush();
  std::optional<Reading> found;
  blocks_->each_block(meter, block_hour(after), std::numeric_limits<std::int64_t>::max(), false,
                      [&](const std::vector<Reading>& rows) {
                        for (const Reading& r : rows)
                          if (r.received_at > after) {
                            found = r;
                            return false;
                          }
                        return true;
                      });
  return found;
}

std::map<std::uint16_t, std::int64_t> Store::reading_counts() {
  blocks_->flush();
  std::map<std::uint16_t, std::int64_t> out;
  SQLite::Statement q(db_, "SELECT meter_id, sum(n) FROM reading_blocks GROUP BY meter_id");
  while (q.executeStep())
    out[static_cast<std::uint16_t>(q.getColumn(0).getInt())] = q.getColumn(1).getInt64();
  return out;
}

namespace {

EventKind event_kind_from_column(const std::string& text) {
  if (auto k = parse_event_kind(text)) return *k;
  throw std::runtime_error("events: unknown kind '" + text + "' in the database");
}

// Event detail is written by EventDetail::json (a flat object); read it back field by field.
EventDetail event_detail_from_json(const std::string& text) {
  EventDetail d;
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return d.add("unparsed", text);
  for (const auto& [k, v] : j.items()) {
    if (v.is_boolean())
      d.add(k, v.get<bool>());
    else if (v.is_number_integer())
      d.add(k, v.get<std::int64_t>());
    else if (v.is_string())
      d.add(k, v.get<std::string>());
    else
      d.add(k, v.dump());
  }
  return d;
}

}  // namespace

std::vector<StoredEvent> Store::events(std::optional<std::uint16_t> meter, UtcMicros from,
                                       UtcMicros to, const std::string& kind) {
  std::string sql =
      "SELECT e.id, e.at_us, e.kind, e.meter_id, e.source_id, e.detail, coalesce(s.name, ''), "
      "e.retracted "
      "FROM events e LEFT JOIN sources s ON s.id = e.source_id WHERE e.at_us >= ? AND e.at_us < ?";
  if (meter) sql += " AND e.meter_id = ?";
  if (!kind.empty()) sql += " AND e.kind = ?";
  sql += " ORDER BY e.at_us, e.id";
  SQLite::Statement q(db_, sql);
  int i = 1;
  q.bind(i++, from);
  q.bind(i++, to);
  if (meter) q.bind(i++, static_cast<int>(*meter));
  if (!kind.empty()) q.bind(i++, kind);
  std::vector<StoredEvent> out;
  while (q.executeStep()) {
    StoredEvent s;
    s.id = q.getColumn(0).getInt64();
    s.e.at = q.getColumn(1).getInt64();
    s.e.kind = event_kind_from_column(q.getColumn(2).getString());
    if (!q.getColumn(3).isNull())
      s.e.meter_id = static_cast<std::uint16_t>(q.getColumn(3).getInt());
    if (!q.getColumn(4).isNull())
      s.e.source_id = static_cast<std::uint32_t>(q.getColumn(4).getInt64());
    s.e.detail = event_detail_from_json(q.getColumn(5).getString());
    s.source = q.getColumn(6).getString();
    s.retracted = q.getColumn(7).getInt() != 0;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::pair<std::string, SourceCounters>> Store::sources() {
  std::vector<std::pair<std::string, SourceCounters>> out;
  SQLite::Statement q(db_, "SELECT id, name FROM sources ORDER BY id");
  std::vector<std::pair<std::uint32_t, std::string>> ids;
  while (q.executeStep())
    ids.emplace_back(static_cast<std::uint32_t>(q.getColumn(0).getInt64()),
                     q.getColumn(1).getString());
  for (auto& [id, name] : ids) out.emplace_back(name, source_counters(id));
  return out;
}

std::int64_t Store::count(const char* table) {
  blocks_->flush();  // the view `readings` counts the blocks in memory too
  return db_.execAndGet(fmt::format("SELECT count(*) FROM {}", table)).getInt64();
}

void Store::clear_derived() {
  flush_journal();
  db_.exec("DELETE FROM reading_blocks");
  blocks_->forget();
  db_.exec("DELETE FROM rejected; DELETE FROM pending; DELETE FROM events;");
  db_.exec("DELETE FROM meters WHERE registered = 0");
  db_.exec("UPDATE meters SET discovered_at_us = NULL, epoch = 0, silent = 0");
  next_event_id_ = 1;
}

}  // namespace imsm::collector
