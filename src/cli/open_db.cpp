#include "cli/open_db.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "cli/cli_error.h"

namespace imsm::cli {

void require_existing_db(const char* command, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      throw RuntimeError(
          db_error(command, path, "no such database (imsmeter collect creates one)"));
    throw RuntimeError(db_error(command, path, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) throw RuntimeError(db_error(command, path, "is a directory"));
}

std::unique_ptr<collector::Store> open_existing_store(const char* command, const std::string& path,
                                                      collector::StoreOptions options) {
  require_existing_db(command, path);
  try {
    return collector::open_store(path, options);
  } catch (const std::exception& e) {
    throw RuntimeError(db_error(command, path, e.what()));
  }
}

std::string db_error(const char* command, const std::string& path, const std::string& what) {
  const std::string prefix = std::string(command) + ": ";
  if (what.starts_with(path + ":")) return prefix + what;
  return prefix + path + ": " + what;
}

}  // namespace imsm::cli
