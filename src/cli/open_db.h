// Opening the collector's database from a command. Only `collect` creates one: every other
// command refuses a path that does not exist (exit 1, naming it) instead of letting SQLite
// create an empty file, and every SQLite failure ("unable to open database file", "file is
// not a database") is reported with the path it concerns.
#pragma once

#include <memory>
#include <string>

#include "collector/store/store.h"

namespace imsm::cli {

// Throws RuntimeError "COMMAND: PATH: no such database (imsmeter collect creates one)" when
// PATH does not exist, "COMMAND: PATH: is a directory" for a directory.
void require_existing_db(const char* command, const std::string& path);

// require_existing_db, then opens the store; a failure to open is a RuntimeError
// "COMMAND: PATH: <what SQLite said>".
[[nodiscard]] std::unique_ptr<collector::Store> open_existing_store(
    const char* command, const std::string& path, collector::StoreOptions options);

// "COMMAND: PATH: what" unless `what` already names the path.
[[nodiscard]] std::string db_error(const char* command, const std::string& path,
                                   const std::string& what);

}  // namespace imsm::cli
