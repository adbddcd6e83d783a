#include "cli/net_module.h"

#include "cli/cli_error.h"
#include "collector/net/net_module.h"

namespace imsm::cli {

const collector::net::NetApi& require_net_module(const std::string& what) {
  try {
    return collector::net::net_api();
  } catch (const collector::net::NetModuleError& e) {
    throw RuntimeError(what + ": " + e.what());
  }
}

}  // namespace imsm::cli
