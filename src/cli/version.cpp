#include "cli/version.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <spdlog/version.h>
#include <sqlite3.h>
#include <CLI/Version.hpp>

#include <toml++/impl/version.h>
#include <asio/version.hpp>
#include <nlohmann/json.hpp>

#include "imsm_git_revision.h"

#ifndef IMSM_VERSION
#define IMSM_VERSION "0.0.0"
#endif

namespace imsm::cli {

std::string version_text() {
  std::string s = fmt::format("imsmeter {}\ngit revision {}\n", IMSM_VERSION, IMSM_GIT_REVISION);
  s += fmt::format("SQLite {} (built with {})\n", sqlite3_libversion(), SQLITE_VERSION);
  s += fmt::format("SQLiteCpp {}\n", SQLITECPP_VERSION);
  s += fmt::format("fmt {}.{}.{}\n", FMT_VERSION / 10000, FMT_VERSION / 100 % 100,
                   FMT_VERSION % 100);
  s += fmt::format("spdlog {}.{}.{}\n", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
  s += fmt::format("nlohmann_json {}.{}.{}\n", NLOHMANN_JSON_VERSION_MAJOR,
                   NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH);
  s += fmt::format("toml++ {}.{}.{}\n", TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH);
  s += fmt::format("CLI11 {}\n", CLI11_VERSION);
  s += fmt::format("asio {}.{}.{}", ASIO_VERSION / 100000, ASIO_VERSION / 100 % 1000,
                   ASIO_VERSION % 100);
  return s;
}

}  // namespace imsm::cli
