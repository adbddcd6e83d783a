// The store implementations the contract suites run against (store_contract_test.cpp,
// outbox_test.cpp): every test there is written once against the Store interface and runs
// once per implementation. SQLite is the first; a PostgreSQL store adds one line here (and a
// server started by the test fixture).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "helpers.h"

namespace imsm::collector::test {

struct StoreImpl {
  std::string name;
  // Opens (creating on first use) the store kept under `path` (a file path in the test's
  // fresh directory).
  std::unique_ptr<Store> (*open)(const std::string& path, StoreOptions options);
};

inline std::vector<StoreImpl> store_impls() {
  return {StoreImpl{"sqlite",
                    [](const std::string& path, StoreOptions o) { return open_store(path, o); }}};
}

inline std::string store_impl_name(const ::testing::TestParamInfo<StoreImpl>& info) {
  return info.param.name;
}

// A fresh directory per test (DbTest) and the implementation under test.
class StoreContractTest : public DbTest, public ::testing::WithParamInterface<StoreImpl> {
 protected:
  std::unique_ptr<Store> open(StoreOptions options = {}) { return GetParam().open(path_, options); }
  std::unique_ptr<Store> open_read_only() { return open(StoreOptions{true, false}); }
};

}  // namespace imsm::collector::test
