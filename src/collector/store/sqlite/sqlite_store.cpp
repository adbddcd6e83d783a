#include "collector/store/sqlite/sqlite_store.h"

#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <tuple>

#include "collector/store/sqlite/sqlite_rollups.h"
#include "collector/store/sqlite/sqlite_rows.h"
#include "collector/store/sqlite/sqlite_schema.h"
#include "collector/store/sqlite/sqlite_validator_state.h"

namespace imsm::collector {

using sqlite::kSchemaVersion;
using namespace sqlite;  // the row decoders (sqlite_rows.h)

namespace {

// Before the first connection: no global memory statistics (they take a mutex on every
// allocation). Later calls are refused by SQLite (SQLITE_MISUSE) and change nothing.
bool configure_sqlite() {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return true;
}

// A reader opens read-only, so it works on a file it cannot write. A WAL database on a
// read-only mount (or whose -shm cannot be created) cannot be opened that way; it is opened
// immutable instead (nothing can be writing it then).
SQLite::Database open_database(const std::string& path, const StoreOptions& o) {
  static const bool once = configure_sqlite();
  static_cast<void>(once);
  if (!o.read_only)
    return SQLite::Database(path,
                            SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            o.busy_timeout_ms);
  if (!std::filesystem::exists(path))
    throw std::runtime_error(fmt::format("{}: no such database", path));
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY | SQLITE_OPEN_NOMUTEX, o.busy_timeout_ms);
    db.execAndGet("PRAGMA user_version");  // the first read opens the WAL index
    return db;
  } catch (const SQLite::Exception&) {
    const std::string uri = "file:" + path + "?immutable=1";
    return SQLite::Database(uri, SQLite::OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                            o.busy_timeout_ms);
  }
}

// Readings held for one sorted insert (flush_readings): bounds the batch's memory to a few
// MiB; at 1,000 meters that is still 65 consecutive inserts per meter's leaf.
constexpr std::size_t kMaxUnwrittenReadings = 65'536;

}  // namespace

const char* to_string(OutboxKind k) {
  switch (k) {
    case OutboxKind::Reading:
      return "reading";
    case OutboxKind::Rejection:
      return "rejection";
    case OutboxKind::Retraction:
      return "retraction";
    case OutboxKind::Event:
      return "event";
    case OutboxKind::Provisional:
      return "provisional";
  }
  return "?";
}

std::unique_ptr<Store> open_store(const std::string& path, StoreOptions options) {
  try {
    return std::make_unique<SqliteStore>(path, options);
  } catch (const SQLite::Exception& e) {
    throw std::runtime_error(fmt::format("database {}: {}", path, e.what()));
  }
}

SqliteStore::SqliteStore(const std::string& path, StoreOptions options)
    : db_(open_database(path, options)), options_(options) {
  db_.exec("PRAGMA foreign_keys = ON");
  if (!options_.read_only) {
    // 16 KiB pages for a new database (an existing one keeps its page size): shallower
    // B-trees, fewer pages written per commit; must precede the switch to WAL.
    db_.exec("PRAGMA page_size = 16384");
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec(options_.synchronous_full ? "PRAGMA synchronous = FULL"
                                       : "PRAGMA synchronous = NORMAL");
    db_.exec(fmt::format("PRAGMA cache_size = -{}", options_.cache_kib));
    // The WAL file is truncated back to 64 MiB when the log restarts after a checkpoint.
    db_.exec("PRAGMA journal_size_limit = 67108864");
    migrate();
    // Statement journals and sorts in memory: a statement journal spilled to a temp file
    // cost one write per touched page. Not during the migrations: a table rebuilt by one
    // INSERT ... SELECT keeps a statement journal of every page it writes (3 GB of memory for
    // the 80 M readings of migration 9 -> 10).
    db_.exec("PRAGMA temp_store = MEMORY");
    // Checkpoint when the WAL reaches 64 MiB rather than SQLite's 1000 pages: pages rewritten
    // by several one-second commits are then copied into the database once per checkpoint.
    const auto page = db_.execAndGet("PRAGMA page_size").getInt64();
    db_.exec(fmt::format("PRAGMA wal_autocheckpoint = {}",
                         (64 << 20) / std::max<std::int64_t>(page, 512)));
  } else if (schema_version() != kSchemaVersion) {
    throw std::runtime_error(
        fmt::format("{}: not an imsmeter database of this version (schema version {}, want {}; "
                    "open it once with `imsmeter collect` or `rebuild` to migrate it)",
                    path, schema_version(), kSchemaVersion));
  }
  prepare();
}

SqliteStore::~SqliteStore() {
  if (in_tx_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

int SqliteStore::schema_version() {
  return db_.execAndGet("PRAGMA user_version").getInt();
}

std::int64_t SqliteStore::generation() {
  SQLite::Statement q(db_, "SELECT value FROM store_meta WHERE key = 'generation'");
  return q.executeStep() ? q.getColumn(0).getInt64() : 1;
}

void SqliteStore::migrate() {
  const int have = schema_version();
  if (have > kSchemaVersion)
    throw std::runtime_error(fmt::format("{}: schema version {} is newer than this imsmeter ({})",
                                         db_.getFilename(), have, kSchemaVersion));
  if (have == kSchemaVersion) return;
  if (have > 0)
    spdlog::info("{}: migrating from schema {} to {}", db_.getFilename(), have, kSchemaVersion);
  // Foreign keys off while tables are rebuilt (SQLite's procedure for changing a table's
  // shape; the pragma is a no-op inside a transaction), checked before each commit.
  db_.exec("PRAGMA foreign_keys = OFF");
  for (int v = have; v < kSchemaVersion; ++v) {
    const char* note = have > 0 ? sqlite::migration_note(v) : nullptr;  // a new file is empty
    if (note) spdlog::info("{}: schema {} -> {}: {}", db_.getFilename(), v, v + 1, note);
    SQLite::Transaction tx(db_);
    db_.exec(sqlite::migration(v));
    db_.exec(fmt::format("PRAGMA user_version = {}", v + 1));
    const char* scope = sqlite::migration_fk_scope(v);
    if (scope && *scope == '\0') {  // a migration that cannot break a key
      tx.commit();
      continue;
    }
    SQLite::Statement check(db_, scope ? fmt::format("PRAGMA foreign_key_check({})", scope)
                                       : std::string("PRAGMA foreign_key_check"));
    if (check.executeStep())
      throw std::runtime_error(fmt::format("{}: migration to schema {} breaks a foreign key in {}",
                                           db_.getFilename(), v + 1,
                                           check.getColumn(0).getString()));
    tx.commit();
  }
  db_.exec("PRAGMA foreign_keys = ON");
  if (have < 8) build_all_rollups();
}

// Rollups of every stored reading (the migrations to schema 4, whose readings had none, to 6,
// whose rows gained the bill's columns, and to 8: daily rows, and hourly rows rebuilt).
void SqliteStore::build_all_rollups() {
  SQLite::Transaction tx(db_);
  SqliteRollups(db_).rebuild_all();
  tx.commit();
}

// Next ids from the tables' largest keys: each a descent of one B-tree, no scan.
void SqliteStore::load_counters() {
  next_.next_frame_id = db_.execAndGet("SELECT coalesce(max(id), 0) + 1 FROM frames").getInt64();
  next_.next_event_id = db_.execAndGet("SELECT coalesce(max(id), 0) + 1 FROM events").getInt64();
  // Sequence numbers never repeat, also after the outbox was trimmed empty.
  next_.next_seq = db_.execAndGet(
                          "SELECT max((SELECT coalesce(max(seq), 0) FROM outbox), "
                          "(SELECT coalesce(max(value), 0) FROM store_meta WHERE key = "
                          "'outbox_trimmed_through')) "
                          "+ 1")
                       .getInt64();
  at_begin_ = next_;
}

void SqliteStore::prepare() {
  load_counters();
  if (options_.read_only) return;
  auto stmt = [this](const char* sql) { return std::make_unique<SQLite::Statement>(db_, sql); };
  ins_frame_ = stmt(
      "INSERT INTO frames(id, received_at_us, source_id, stream_offset, burst, raw) "
      "VALUES (?,?,?,?,?,?)");
  ins_reading_ = stmt(
      "INSERT INTO readings(meter_id, received_at_us, frame_id, epoch, total_kwh, kwh24, "
      "peak_demand_counts, demand_resets, source_id, lead_byte) VALUES (?,?,?,?,?,?,?,?,?,?)");
  del_reading_ =
      stmt("DELETE FROM readings WHERE meter_id = ? AND received_at_us = ? AND frame_id = ?");
  ins_rejected_ =
      stmt("INSERT OR REPLACE INTO rejected(frame_id, meter_id, reason, detail) VALUES (?,?,?,?)");
  ins_pending_ = stmt("INSERT OR IGNORE INTO pending(frame_id, published) VALUES (?, ?)");
  del_pending_ = stmt("DELETE FROM pending WHERE frame_id = ? RETURNING published");
  retract_events_ = stmt(
      "UPDATE events SET retracted = 1 WHERE meter_id = ? AND at_us = ? "
      "AND kind IN ('demand_reset', 'rollover')");
  ins_event_ =
      stmt("INSERT INTO events(id, at_us, kind, meter_id, source_id, detail) VALUES (?,?,?,?,?,?)");
  upsert_meter_ = stmt(
      "INSERT INTO meters(id, registered, discovered_at_us, epoch, silent) VALUES (?,?,?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET discovered_at_us = excluded.discovered_at_us, "
      "epoch = excluded.epoch, silent = excluded.silent");
  rollups_ = std::make_unique<SqliteRollups>(db_);
  validator_state_ = std::make_unique<SqliteValidatorState>(db_);
  ins_outbox_ = stmt(
      "INSERT INTO outbox(seq, kind, ref, meter_id, at_us, decides_provisional) "
      "VALUES (?,?,?,?,?,?)");
}

void SqliteStore::begin() {
  if (in_tx_) return;
  db_.exec("BEGIN IMMEDIATE");
  in_tx_ = true;
  at_begin_ = next_;
}

void SqliteStore::commit() {
  if (!in_tx_) return;
  flush_journal();
  flush_readings();
  rollups_->flush();
  validator_state_->flush();
  db_.exec("COMMIT");
  in_tx_ = false;
  at_begin_ = next_;
}

void SqliteStore::rollback() {
  unwritten_.reset();
  unwritten_readings_.clear();
  if (rollups_) rollups_->forget();
  if (validator_state_) validator_state_->forget();
  // A statement whose step threw is left mid-step: reset it so a replay can bind it again.
  for (auto* st : {&ins_frame_, &ins_reading_, &del_reading_, &ins_rejected_, &ins_pending_,
                   &del_pending_, &ins_event_, &retract_events_, &upsert_meter_, &ins_outbox_})
    if (*st) (*st)->tryReset();
  next_ = at_begin_;
  if (!in_tx_) return;
  in_tx_ = false;
  // Some errors (a full disk, I/O) end the transaction by themselves.
  if (sqlite3_get_autocommit(db_.getHandle()) == 0) db_.exec("ROLLBACK");
}

std::uint32_t SqliteStore::source_id(const std::string& name) {
  SQLite::Statement ins(db_, "INSERT OR IGNORE INTO sources(name) VALUES (?)");
  ins.bind(1, name);
  ins.exec();
  SQLite::Statement q(db_, "SELECT id FROM sources WHERE name = ?");
  q.bind(1, name);
  q.executeStep();
  return static_cast<std::uint32_t>(q.getColumn(0).getInt64());
}

SourceCounters SqliteStore::source_counters(std::uint32_t id) {
  SQLite::Statement q(
      db_,
      "SELECT bytes_in, frames, shared_frames, skipped_no_stop, skipped_padding, "
      "skipped_gap, skipped_end, reconnects, last_offset FROM sources WHERE id = ?");
  q.bind(1, static_cast<std::int64_t>(id));
  SourceCounters c;
  if (q.executeStep()) {
    auto u = [&](int i) { return static_cast<std::uint64_t>(q.getColumn(i).getInt64()); };
    c = SourceCounters{u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7), u(8), {}};
  }
  // Rejects per reason: kept by triggers on the rejections themselves (schema 7), so they equal
  // counting them by the source of each rejected frame, also after a rebuild.
  SQLite::Statement r(db_, "SELECT reason, n FROM source_rejects WHERE source_id = ? AND n > 0");
  r.bind(1, static_cast<std::int64_t>(id));
  while (r.executeStep())
    if (const auto reason = parse_reject_reason(r.getColumn(0).getString()))
      c.rejected[static_cast<std::size_t>(*reason)] =
          static_cast<std::uint64_t>(r.getColumn(1).getInt64());
  return c;
}

void SqliteStore::save_source_counters(std::uint32_t id, const SourceCounters& c) {
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

std::optional<CaptureIdentity> SqliteStore::capture_identity(std::uint32_t id) {
  SQLite::Statement q(db_,
                      "SELECT capture_prefix_len, capture_prefix_hash FROM sources WHERE id = ? "
                      "AND capture_prefix_hash IS NOT NULL");
  q.bind(1, static_cast<std::int64_t>(id));
  if (!q.executeStep()) return std::nullopt;
  return CaptureIdentity{static_cast<std::uint64_t>(q.getColumn(0).getInt64()),
                         q.getColumn(1).getString()};
}

void SqliteStore::save_capture_identity(std::uint32_t id, const CaptureIdentity& c) {
  SQLite::Statement u(db_,
                      "UPDATE sources SET capture_prefix_len = ?, capture_prefix_hash = ? "
                      "WHERE id = ?");
  u.bind(1, static_cast<std::int64_t>(c.prefix_len));
  u.bind(2, c.prefix_hash);
  u.bind(3, static_cast<std::int64_t>(id));
  u.exec();
}

void SqliteStore::save_registry(const CollectorConfig& config) {
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
void SqliteStore::journal(Observation& obs) {
  flush_journal();
  obs.frame_id = next_.next_frame_id++;
  unwritten_ = obs;
}

// One prepared single-row INSERT per row, bound, stepped and reset. (Multi-row INSERTs were
// slower: a statement that writes several rows needs a statement journal, a copy of every page
// it touches, so that it can be undone alone; a single-row INSERT needs none.)
void SqliteStore::flush_journal() {
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

// The batch's readings are inserted in key order (meter, time, frame) at commit, or when
// anything reads them: consecutive inserts then land in the same leaf of the clustered
// `readings` B-tree, which stays in the CPU's cache, instead of visiting 1,000 meters' leaves
// in arrival order (docs/performance.md "Collector"). Bounded by kMaxUnwrittenReadings.
void SqliteStore::flush_readings() {
  if (unwritten_readings_.empty()) return;
  flush_journal();  // the frames they refer to
  std::sort(unwritten_readings_.begin(), unwritten_readings_.end(),
            [](const Reading& a, const Reading& b) {
              return std::tie(a.meter_id, a.received_at, a.frame_id) <
                     std::tie(b.meter_id, b.received_at, b.frame_id);
            });
  auto& s = *ins_reading_;
  for (const Reading& r : unwritten_readings_) {
    s.bind(1, static_cast<int>(r.meter_id));
    s.bind(2, r.received_at);
    s.bind(3, r.frame_id);
    s.bind(4, static_cast<std::int64_t>(r.epoch));
    s.bind(5, r.total_kwh);
    s.bind(6, static_cast<std::int64_t>(r.kwh24));
    s.bind(7, static_cast<int>(r.peak_demand_counts));
    s.bind(8, static_cast<int>(r.demand_resets));
    s.bind(9, static_cast<std::int64_t>(r.source_id));
    s.bind(10, static_cast<int>(r.lead));
    s.exec();
    s.reset();
  }
  unwritten_readings_.clear();
}

void SqliteStore::upsert_meter(const MeterState& m) {
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

void SqliteStore::add_outbox(OutboxKind kind, std::int64_t ref, std::optional<std::uint16_t> meter,
                             UtcMicros at, bool decides_provisional) {
  auto& s = *ins_outbox_;
  s.bind(1, next_.next_seq++);
  s.bind(2, static_cast<int>(kind));
  s.bind(3, ref);
  bind_optional_meter(s, 4, meter);
  s.bind(5, at);
  s.bind(6, decides_provisional ? 1 : 0);
  s.exec();
  s.reset();
}

namespace {
bool contains(const std::vector<std::int64_t>& v, std::int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// A reading or a rejection of the frame: its fate is final.
bool decides(const Decisions& d, std::int64_t frame_id) {
  return std::any_of(d.readings.begin(), d.readings.end(),
                     [frame_id](const Reading& r) { return r.frame_id == frame_id; }) ||
         std::any_of(d.rejections.begin(), d.rejections.end(),
                     [frame_id](const Rejection& r) { return r.frame_id == frame_id; });
}
}  // namespace

// A frame released and held again by one decision stays pending, as it was, unless the
// decision also decides it (a decider decided, held again as a contradiction, then rejected by
// the frame after it: it was left both pending and rejected).
std::vector<std::int64_t> SqliteStore::release_pending(const Decisions& d) {
  std::vector<std::int64_t> decided;
  for (std::int64_t id : d.released) {
    if (contains(d.held, id) && !decides(d, id)) continue;
    del_pending_->bind(1, id);
    if (del_pending_->executeStep() && del_pending_->getColumn(0).getInt() != 0)
      decided.push_back(id);
    del_pending_->reset();
  }
  return decided;
}

// A known meter's frame put on hold is published at once as Provisional, with what its journal
// row says (once: a frame already pending, decided again after a restart, is not published
// again). An unknown ID's frames are not: most are noise, and none is a meter yet.
void SqliteStore::hold_pending(const Decisions& d, const Validator& v) {
  for (std::int64_t id : d.held) {
    if (contains(d.released, id)) continue;
    auto& q = cached("SELECT received_at_us, raw FROM frames WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) throw std::logic_error(fmt::format("pending frame {} not journaled", id));
    protocol::RawFrame raw{};
    copy_raw(q.getColumn(1), raw);
    const UtcMicros at = q.getColumn(0).getInt64();
    q.reset();
    const std::uint16_t meter = protocol::decode_unchecked(raw.data()).meter_id.value;
    const bool publish = v.meter(meter) != nullptr;
    ins_pending_->bind(1, id);
    ins_pending_->bind(2, publish ? 1 : 0);
    const int added = ins_pending_->exec();
    ins_pending_->reset();
    if (added > 0 && publish) add_outbox(OutboxKind::Provisional, id, meter, at);
  }
}

void SqliteStore::apply(const Decisions& d, const Validator& v) {
  validator_state_->note(d, v);
  // Meter rows first: readings refer to them.
  for (std::uint16_t id : d.meters_changed)
    if (const MeterState* m = v.meter(id)) upsert_meter(*m);
  // The frame journaled last is written first: rejections and pending rows refer to it.
  flush_journal();
  const std::vector<std::int64_t> was_provisional = release_pending(d);
  auto provisional = [&was_provisional](std::int64_t frame_id) {
    return std::find(was_provisional.begin(), was_provisional.end(), frame_id) !=
           was_provisional.end();
  };
  for (const Reading& r : d.readings) {
    unwritten_readings_.push_back(r);
    rollups_->add(r);
    add_outbox(OutboxKind::Reading, r.frame_id, r.meter_id, r.received_at, provisional(r.frame_id));
  }
  if (unwritten_readings_.size() >= kMaxUnwrittenReadings) flush_readings();
  if (!d.retracted.empty()) flush_readings();  // a retraction may withdraw one of them
  for (const Reading& r : d.retracted) {
    auto& s = *del_reading_;
    s.bind(1, static_cast<int>(r.meter_id));
    s.bind(2, r.received_at);
    s.bind(3, r.frame_id);
    s.exec();
    s.reset();
    rollups_->changed(r.meter_id, r.received_at);
    add_outbox(OutboxKind::Retraction, r.frame_id, r.meter_id, r.received_at);
    // What the reading alone raised is void with it (its frame's time and meter name them).
    auto& e = *retract_events_;
    e.bind(1, static_cast<int>(r.meter_id));
    e.bind(2, r.received_at);
    e.exec();
    e.reset();
  }
  for (const Rejection& r : d.rejections) {
    auto& s = *ins_rejected_;
    s.bind(1, r.frame_id);
    s.bind(2, static_cast<int>(r.meter_id));
    s.bind(3, to_string(r.reason));
    s.bind(4, r.detail);
    s.exec();
    s.reset();
    add_outbox(OutboxKind::Rejection, r.frame_id, r.meter_id, 0, provisional(r.frame_id));
  }
  hold_pending(d, v);
  for (const Event& e : d.events) {
    auto& s = *ins_event_;
    const std::int64_t id = next_.next_event_id++;
    s.bind(1, id);
    s.bind(2, e.at);
    s.bind(3, to_string(e.kind));
    bind_optional_meter(s, 4, e.meter_id);
    if (e.source_id)
      s.bind(5, static_cast<std::int64_t>(*e.source_id));
    else
      s.bind(5);
    s.bind(6, e.detail.json());
    s.exec();
    s.reset();
    add_outbox(OutboxKind::Event, id, e.meter_id, e.at);
  }
}

bool SqliteStore::load_validator_state(Validator& v) {
  return validator_state_ && validator_state_->load(v);
}

void SqliteStore::save_validator_state(const Validator& v) {
  validator_state_->note_all(v);
}

std::vector<MeterState> SqliteStore::load_meter_states() {
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

void SqliteStore::each_frame(const std::function<void(const Observation&)>& fn) {
  flush_journal();
  SQLite::Statement q(db_,
                      "SELECT id, received_at_us, source_id, stream_offset, burst, raw FROM frames "
                      "ORDER BY id");
  while (q.executeStep()) fn(observation_from(q));
}

std::vector<Observation> SqliteStore::load_pending() {
  std::vector<Observation> out;
  SQLite::Statement q(db_,
                      "SELECT f.id, f.received_at_us, f.source_id, f.stream_offset, f.burst, f.raw "
                      "FROM pending p JOIN frames f ON f.id = p.frame_id ORDER BY f.id");
  while (q.executeStep()) out.push_back(observation_from(q));
  return out;
}

// Source events (source_up, source_down) are not derived from the journal and stay; derived
// events get new ids after every id ever used (ids are never reused), in a new generation.
void SqliteStore::clear_derived() {
  flush_readings();
  flush_journal();
  db_.exec(
      "DELETE FROM readings; DELETE FROM rollups_hourly; DELETE FROM rollups_daily; DELETE FROM "
      "rejected; "
      "DELETE FROM pending; DELETE FROM events WHERE kind NOT IN ('source_up', 'source_down');");
  db_.exec("DELETE FROM meters WHERE registered = 0");
  db_.exec("UPDATE meters SET discovered_at_us = NULL, epoch = 0, silent = 0");
  db_.exec("UPDATE store_meta SET value = value + 1 WHERE key = 'generation'");
  rollups_->forget();
  validator_state_->clear();
}

}  // namespace imsm::collector
