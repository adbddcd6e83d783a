// This suite links the network module's code (tests/CMakeLists.txt): make_sink's MQTT kinds
// use it in-process, as the executable uses the loaded libimsmeter-net.so.
#include "collector/net/net_api.h"
#include "collector/net/net_module.h"

namespace {

[[maybe_unused]] const bool kLinked = [] {
  imsm::collector::net::use_linked_net_api(imsm::collector::net::module_net_api());
  return true;
}();

}  // namespace
