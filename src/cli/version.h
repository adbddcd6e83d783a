// `imsmeter --version`: the version, the git revision it was built from, and the versions of
// the libraries it links (SQLite at run time and at build time).
#pragma once

#include <string>

namespace imsm::cli {

[[nodiscard]] std::string version_text();

}  // namespace imsm::cli
