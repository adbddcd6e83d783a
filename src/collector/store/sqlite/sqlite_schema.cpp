// The SQLite store's schema as versioned migrations (docs/collector.md "Store"). Migrations
// are frozen history: a released one is never edited; a change is a new migration.
#include "collector/store/sqlite/sqlite_schema.h"

namespace imsm::collector::sqlite {

namespace {

// Versioned migrations: migration i brings the schema from version i to i + 1.
const char* const kMigrations[] = {
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
    // 3 -> 4: one row per reading in a real table keyed by (meter, time, frame), with a foreign
    // key to its journal row; hourly rollups; the outbox and the sinks' cursors; a key-value
    // table for the store's own figures (generation, outbox entries trimmed unsent); what
    // identifies a file source's capture (its first bytes' length and hash). A reading's
    // fields are checked by the database (the 24-bit and 16-bit ranges of the wire).
    R"sql(
CREATE TABLE readings_v4(
  meter_id INTEGER NOT NULL REFERENCES meters(id),
  received_at_us INTEGER NOT NULL,
  frame_id INTEGER NOT NULL REFERENCES frames(id),
  epoch INTEGER NOT NULL CHECK (epoch >= 0),
  total_kwh INTEGER NOT NULL CHECK (total_kwh >= 0),
  kwh24 INTEGER NOT NULL CHECK (kwh24 BETWEEN 0 AND 16777215),
  peak_demand_counts INTEGER NOT NULL CHECK (peak_demand_counts BETWEEN 0 AND 65535),
  demand_resets INTEGER NOT NULL CHECK (demand_resets BETWEEN 0 AND 255),
  PRIMARY KEY(meter_id, received_at_us, frame_id)
) WITHOUT ROWID;
INSERT INTO readings_v4
  SELECT meter_id, received_at_us, frame_id, epoch, total_kwh, kwh24, peak_demand_counts,
         demand_resets
  FROM readings ORDER BY meter_id, received_at_us, frame_id;
DROP VIEW readings;
DROP TABLE reading_blocks;
ALTER TABLE readings_v4 RENAME TO readings;
CREATE TABLE rollups_hourly(
  meter_id INTEGER NOT NULL REFERENCES meters(id),
  hour_us INTEGER NOT NULL,
  n INTEGER NOT NULL,
  first_at_us INTEGER,
  last_at_us INTEGER,
  epoch_first INTEGER,
  epoch_last INTEGER,
  kwh_first INTEGER,
  kwh_last INTEGER,
  resets_first INTEGER,
  resets_last INTEGER,
  peak_max_counts INTEGER,
  start_wh INTEGER,
  start_epoch INTEGER,
  PRIMARY KEY(meter_id, hour_us)
) WITHOUT ROWID;
CREATE TABLE outbox(
  seq INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  ref INTEGER NOT NULL,
  meter_id INTEGER,
  at_us INTEGER NOT NULL
);
CREATE TABLE sink_cursors(
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);
CREATE TABLE store_meta(
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
ALTER TABLE sources ADD COLUMN capture_prefix_len INTEGER;
ALTER TABLE sources ADD COLUMN capture_prefix_hash TEXT;
INSERT INTO store_meta(key, value) VALUES ('generation', 1), ('outbox_trimmed_unsent', 0),
  ('outbox_trimmed_through', 0);
)sql",
    // 4 -> 5: the validator's decision state (docs/collector.md "Restarts"), one row per known
    // meter (kind 0), per unknown ID with candidate chains (kind 1) or waiting shared-burst
    // frames (kind 2); complete once
    // store_meta's 'validator_state' is 1 (until then a restart decides pending frames again).
    R"sql(
CREATE TABLE validator_state(
  kind INTEGER NOT NULL,
  id INTEGER NOT NULL CHECK (id BETWEEN 0 AND 65535),
  state BLOB NOT NULL,
  PRIMARY KEY(kind, id)
) WITHOUT ROWID;
)sql",
    // 5 -> 6: what a bill needs from the hourly rollups (rollup.h, docs/collector.md "Billing
    // from rollups"): the register at the quarter hours, the largest quarter-hour rise, the
    // peak register at the first and last reading and since the last restart, the reset
    // counter's advances and the readings' flags. The rows are rebuilt from the readings
    // (SqliteStore::migrate) after this migration empties them.
    R"sql(
ALTER TABLE rollups_hourly ADD COLUMN q15_wh INTEGER;
ALTER TABLE rollups_hourly ADD COLUMN q30_wh INTEGER;
ALTER TABLE rollups_hourly ADD COLUMN q45_wh INTEGER;
ALTER TABLE rollups_hourly ADD COLUMN quarter_peak_wh INTEGER;
ALTER TABLE rollups_hourly ADD COLUMN peak_first_counts INTEGER;
ALTER TABLE rollups_hourly ADD COLUMN peak_last_counts INTEGER;
ALTER TABLE rollups_hourly ADD COLUMN peak_since_restart_counts INTEGER;
ALTER TABLE rollups_hourly ADD COLUMN reset_advances INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rollups_hourly ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;
DELETE FROM rollups_hourly;
)sql",
    // 6 -> 7: rejections per source and reason, kept by triggers on `rejected` (so always equal
    // to counting them, also across rebuilds and re-decisions), so that a source's counters are
    // one lookup: counting them through the journal scanned every rejected frame at each start
    // (2.6 s on 10,000 meters x 30 days). A re-decided frame (INSERT OR REPLACE) first leaves
    // its old reason (the REPLACE's delete fires no trigger: recursive_triggers is off). The
    // CROSS JOIN walks the rejections in frame order (a scan of the journal instead took 400 s
    // on that database).
    R"sql(
CREATE TABLE source_rejects(
  source_id INTEGER NOT NULL REFERENCES sources(id),
  reason TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY(source_id, reason)
) WITHOUT ROWID;
INSERT INTO source_rejects(source_id, reason, n)
  SELECT f.source_id, r.reason, count(*) FROM rejected r CROSS JOIN frames f ON f.id = r.frame_id
  GROUP BY f.source_id, r.reason;
CREATE TRIGGER source_rejects_replace BEFORE INSERT ON rejected BEGIN
  UPDATE source_rejects SET n = n - 1
  WHERE source_id = (SELECT source_id FROM frames WHERE id = NEW.frame_id)
    AND reason = (SELECT reason FROM rejected WHERE frame_id = NEW.frame_id);
END;
CREATE TRIGGER source_rejects_insert AFTER INSERT ON rejected BEGIN
  INSERT INTO source_rejects(source_id, reason, n)
    VALUES ((SELECT source_id FROM frames WHERE id = NEW.frame_id), NEW.reason, 1)
    ON CONFLICT(source_id, reason) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER source_rejects_delete AFTER DELETE ON rejected BEGIN
  UPDATE source_rejects SET n = n - 1
  WHERE source_id = (SELECT source_id FROM frames WHERE id = OLD.frame_id) AND reason = OLD.reason;
END;
CREATE TRIGGER source_rejects_update AFTER UPDATE OF reason, frame_id ON rejected BEGIN
  UPDATE source_rejects SET n = n - 1
  WHERE source_id = (SELECT source_id FROM frames WHERE id = OLD.frame_id) AND reason = OLD.reason;
  INSERT INTO source_rejects(source_id, reason, n)
    VALUES ((SELECT source_id FROM frames WHERE id = NEW.frame_id), NEW.reason, 1)
    ON CONFLICT(source_id, reason) DO UPDATE SET n = n + 1;
END;
)sql",
    // 7 -> 8: daily rollups (the fold of a meter's hourly rows of one UTC day, for bills over
    // many days: a month is 30 rows a meter instead of 720), and the hourly rows rebuilt from
    // the readings (SqliteStore::migrate): until this version a process's first reading of a
    // meter older than the meter's newest (a later replay of another bus where the same ID was
    // heard) was counted as the newest, leaving rows that disagree with the readings.
    R"sql(
CREATE TABLE rollups_daily(
  meter_id INTEGER NOT NULL REFERENCES meters(id),
  day_us INTEGER NOT NULL,
  n INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  peak_max_counts INTEGER,
  quarter_peak_wh INTEGER,
  reset_advances INTEGER NOT NULL,
  PRIMARY KEY(meter_id, day_us)
) WITHOUT ROWID;
DELETE FROM rollups_hourly;
)sql",
    // 8 -> 9: a known meter's frame put on hold is published at once as a Provisional outbox
    // entry (kind 5; pending.published); the Reading or Rejection entry that later decides it
    // says so (store.h "OutboxKind").
    R"sql(
ALTER TABLE outbox ADD COLUMN decides_provisional INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pending ADD COLUMN published INTEGER NOT NULL DEFAULT 0;
)sql",
    // 9 -> 10: a reading carries its source and its frame's first byte, so that it is its whole
    // frame (bytes 7-8 are zero and byte 12 is 0x0D in every frame the framer takes): a listing
    // reads one meter's rows and no journal row (one page of `frames` per reading otherwise).
    // The table is rebuilt in key order (NOT NULL columns filled from the journal).
    R"sql(
CREATE TABLE readings_v10(
  meter_id INTEGER NOT NULL REFERENCES meters(id),
  received_at_us INTEGER NOT NULL,
  frame_id INTEGER NOT NULL REFERENCES frames(id),
  epoch INTEGER NOT NULL CHECK (epoch >= 0),
  total_kwh INTEGER NOT NULL CHECK (total_kwh >= 0),
  kwh24 INTEGER NOT NULL CHECK (kwh24 BETWEEN 0 AND 16777215),
  peak_demand_counts INTEGER NOT NULL CHECK (peak_demand_counts BETWEEN 0 AND 65535),
  demand_resets INTEGER NOT NULL CHECK (demand_resets BETWEEN 0 AND 255),
  source_id INTEGER NOT NULL REFERENCES sources(id),
  lead_byte INTEGER NOT NULL CHECK (lead_byte BETWEEN 0 AND 255),
  PRIMARY KEY(meter_id, received_at_us, frame_id)
) WITHOUT ROWID;
INSERT INTO readings_v10
  SELECT r.meter_id, r.received_at_us, r.frame_id, r.epoch, r.total_kwh, r.kwh24,
         r.peak_demand_counts, r.demand_resets, f.source_id,
         (instr('0123456789ABCDEF', substr(hex(f.raw), 1, 1)) - 1) * 16 +
           instr('0123456789ABCDEF', substr(hex(f.raw), 2, 1)) - 1
  FROM readings r CROSS JOIN frames f ON f.id = r.frame_id
  ORDER BY r.meter_id, r.received_at_us, r.frame_id;
DROP TABLE readings;
ALTER TABLE readings_v10 RENAME TO readings;
)sql",
};

}  // namespace

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion);

const char* migration(int from_version) {
  return kMigrations[from_version];
}

const char* migration_note(int from_version) {
  // 9 -> 10 measured: 40 s for 8 M readings, 495 s for 80 M (docs/performance.md).
  if (from_version == 9)
    return "rebuilding `readings` with each reading's source (about 5 s per million readings)";
  return nullptr;
}

const char* migration_fk_scope(int from_version) {
  // 6 -> 7 only adds source_rejects, 7 -> 8 rollups_daily (and empties rollups_hourly), 8 -> 9
  // a column of the outbox:
  // checking every journal row's keys took 350 s on a 10,000-meter x 30-day database.
  if (from_version == 6) return "source_rejects";
  if (from_version == 7) return "rollups_daily";
  if (from_version == 8) return "pending";
  // 9 -> 10 copies `readings` with keys that were checked and the journal's checked source ids:
  // nothing to check (the whole check of 80 M readings would take minutes).
  if (from_version == 9) return "";
  return nullptr;
}

}  // namespace imsm::collector::sqlite
