// The SQLite store's schema version and its migrations (sqlite_schema.cpp).
#pragma once

namespace imsm::collector::sqlite {

// 4: readings in a real table, hourly rollups, outbox, sink cursors; 5: validator state; 6: the
// bill's rollup columns; 7: rejections per source and reason (source_rejects); 8: daily rollups
// (rollups_daily), hourly rollups rebuilt.
inline constexpr int kSchemaVersion = 10;

// The SQL that brings a database from `from_version` to `from_version + 1`.
[[nodiscard]] const char* migration(int from_version);
// The one table whose foreign keys that migration can break (nullptr: check them all; "": none).
[[nodiscard]] const char* migration_fk_scope(int from_version);
// What to tell the user before a migration that takes long on a large file (nullptr: nothing).
[[nodiscard]] const char* migration_note(int from_version);

}  // namespace imsm::collector::sqlite
