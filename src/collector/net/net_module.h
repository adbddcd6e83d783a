// Finds and loads the network module (net_api.h) on first use. Only the commands and options
// that need HTTP, MQTT or Modbus call net_api(); nothing else loads the module.
#pragma once

#include <stdexcept>
#include <string>

#include "collector/net/net_api.h"

namespace imsm::collector::net {

// The module cannot be loaded (missing, unreadable, from another build): the message names
// the file and dlerror().
struct NetModuleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where net_api() loads the module from: the file next to the executable when there is one
// (the build tree: build/src/cli/), else the installed location relative to the executable
// (bin/../lib/<multiarch>/imsmeter/, the Debian package's layout).
[[nodiscard]] std::string net_module_path();

// Loads the module once (thread-safe; never unloaded) and returns its table. Throws
// NetModuleError, the same one at every call, when it cannot.
[[nodiscard]] const NetApi& net_api();

// For a program that links the module's code instead of loading it (the unit tests): from
// now on net_api() returns `api` and loads nothing.
void use_linked_net_api(const NetApi& api);

}  // namespace imsm::collector::net
