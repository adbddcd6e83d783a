// The network module's entry point (net_api.h), found with dlsym by net_module.cpp. Only in
// libimsmeter-net.so: programs that link the module's code (the unit tests) have
// module_net_api() without it.
#include "collector/net/net_api.h"

extern "C" const imsm::collector::net::NetApi* imsm_net_api() {
  return &imsm::collector::net::module_net_api();
}
