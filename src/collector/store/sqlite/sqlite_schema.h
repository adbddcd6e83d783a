// The SQLite store's schema version and its migrations (sqlite_schema.cpp).
#pragma once

namespace imsm::collector::sqlite {

// 4: readings in a real table, hourly rollups, outbox, sink cursors.
inline constexpr int kSchemaVersion = 6;

// The SQL that brings a database from `from_version` to `from_version + 1`.
[[nodiscard]] const char* migration(int from_version);

}  // namespace imsm::collector::sqlite
