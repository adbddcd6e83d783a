#include "collector/net/net_module.h"

#include <dlfcn.h>

#include <atomic>
#include <filesystem>
#include <string_view>

namespace imsm::collector::net {

namespace {

// Both set by src/collector/CMakeLists.txt.
constexpr std::string_view kModuleFile = IMSM_NET_MODULE_FILE;
constexpr std::string_view kInstalledFromBin = IMSM_NET_MODULE_FROM_BINDIR;

std::atomic<const NetApi*> g_linked{nullptr};

struct Loaded {
  const NetApi* api = nullptr;
  std::string error;
};

Loaded load() {
  const std::string path = net_module_path();
  // dlerror() names the file when dlopen fails; the other failures get it here.
  const auto fail = [&](const std::string& why) {
    const std::string what = "cannot load the network module (HTTP, MQTT, Modbus)";
    return Loaded{nullptr,
                  why.starts_with(path) ? what + ": " + why : what + " " + path + ": " + why};
  };
  // RTLD_NOW: a symbol the executable lacks fails here, not at a call later.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    return fail(why ? why : "dlopen failed");
  }
  ::dlerror();
  void* entry = ::dlsym(handle, kNetEntrySymbol);
  if (!entry) {
    const char* why = ::dlerror();
    return fail(why ? why : std::string("no symbol ") + kNetEntrySymbol);
  }
  const NetApi* api = reinterpret_cast<NetEntry>(entry)();
  if (!api || api->api_version != kNetApiVersion ||
      std::string_view(api->project_version) != IMSM_VERSION)
    return fail(std::string("built for another imsmeter (module ") +
                (api ? api->project_version : "?") + ", interface " +
                std::to_string(api ? api->api_version : 0) + "; this binary " + IMSM_VERSION +
                ", interface " + std::to_string(kNetApiVersion) + ")");
  return Loaded{api, {}};
}

}  // namespace

std::string net_module_path() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto dir = ec ? std::filesystem::path(".") : exe.parent_path();
  const auto beside = dir / kModuleFile;
  if (std::filesystem::exists(beside, ec)) return beside.string();
  return (dir / kInstalledFromBin).lexically_normal().string();
}

const NetApi& net_api() {
  if (const NetApi* linked = g_linked.load()) return *linked;
  static const Loaded loaded = load();
  if (!loaded.api) throw NetModuleError(loaded.error);
  return *loaded.api;
}

void use_linked_net_api(const NetApi& api) {
  g_linked.store(&api);
}

}  // namespace imsm::collector::net
