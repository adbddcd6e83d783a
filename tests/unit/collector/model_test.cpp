// The domain model's names and the one JSON writer of event detail.
#include <gtest/gtest.h>

#include "collector/model.h"

namespace imsm::collector {
namespace {

TEST(EventDetail, WritesFieldsInOrderWithEscapedStrings) {
  // An error text from the OS may hold quotes, backslashes and control characters; written
  // by hand into JSON they broke the event's detail (issue #9). Expected text by JSON rules:
  // " -> \", \ -> \\, newline -> \u000a (the
  // writer escapes every control character by its code point).
  const auto d = EventDetail{}
                     .add("error", std::string("open \"/dev/ttyUSB0\": no\\such\nfile"))
                     .add("connection", std::int64_t{-3})
                     .add("registered", true);
  EXPECT_EQ(
      d.json(),
      R"({"error":"open \"/dev/ttyUSB0\": no\\such\u000afile","connection":-3,"registered":true})");
  EXPECT_EQ(EventDetail{}.json(), "{}");
  ASSERT_NE(d.find("connection"), nullptr);
  EXPECT_EQ(std::get<std::int64_t>(*d.find("connection")), -3);
  EXPECT_EQ(d.find("missing"), nullptr);
}

TEST(ModelNames, EveryKindAndReasonRoundTrips) {
  for (std::size_t i = 0; i < kEventKindCount; ++i) {
    const auto k = static_cast<EventKind>(i);
    EXPECT_EQ(parse_event_kind(to_string(k)), k) << i;
  }
  for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
    const auto r = static_cast<RejectReason>(i);
    EXPECT_EQ(parse_reject_reason(to_string(r)), r) << i;
  }
  EXPECT_EQ(parse_event_kind("Discovered"), std::nullopt);  // names are exact, snake_case
  EXPECT_EQ(parse_reject_reason(""), std::nullopt);
  EXPECT_NE(event_kind_names().find("demand_reset, rollover"), std::string::npos);
}

}  // namespace
}  // namespace imsm::collector
