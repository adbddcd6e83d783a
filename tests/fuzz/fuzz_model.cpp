// Fuzz target: the model-number parser. Oracles: no crash; an accepted number is
// self-consistent; an error's 1-based column points inside the input (or just past it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/model_number.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = imsm::protocol::parse_model_number(text);
  if (m) {
    if (m->elements < 1 || m->elements > 3) std::abort();
    if (m->installed && m->capacity && *m->installed > *m->capacity) std::abort();
    if (m->ct_primary_a < 100 || m->ct_primary_a > 1200) std::abort();
  } else if (m.error().position == 0 ||
             (m.error().position > size + 1 && m.error().position != 65)) {
    std::abort();
  }
  return 0;
}
