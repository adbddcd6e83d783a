// Older store files made from current ones, for the migration tests: what a later schema
// added, taken away again (sqlite_schema.cpp has the migrations that added it).
#pragma once

#include <SQLiteCpp/Database.h>

namespace imsm::collector::test {

// Schema 10's `readings` (source_id, lead_byte) back in the shape of schemas 4-9: rebuilt,
// since a column with a foreign key cannot be dropped.
inline void readings_as_schema_9(SQLite::Database& db) {
  db.exec(R"sql(
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
INSERT INTO readings_v4 SELECT meter_id, received_at_us, frame_id, epoch, total_kwh, kwh24,
  peak_demand_counts, demand_resets FROM readings;
DROP TABLE readings;
ALTER TABLE readings_v4 RENAME TO readings;
)sql");
}

// What schemas 9 and 10 added: a schema-8 file.
inline void drop_schemas_9_and_10(SQLite::Database& db) {
  db.exec("ALTER TABLE outbox DROP COLUMN decides_provisional");
  db.exec("ALTER TABLE pending DROP COLUMN published");
  readings_as_schema_9(db);
}

}  // namespace imsm::collector::test
