// The network module for the commands and options that need it (collector/net/net_module.h):
// `serve`, `demo`, `collect --http`, `--modbus` and `--sink mqtt[s]:`. Loaded before anything
// starts, so a missing module fails at once; no other command loads it.
#pragma once

#include <string>

#include "collector/net/net_api.h"

namespace imsm::cli {

// The module's table. A module that cannot be loaded is a RuntimeError (exit 1) naming
// `what` ("collect --http"), the file and dlerror().
const collector::net::NetApi& require_net_module(const std::string& what);

}  // namespace imsm::cli
