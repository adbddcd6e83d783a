// The Prometheus text exposition format's escapes (docs/http.md "Metrics"): in a label value a
// backslash becomes \\, a double quote \" and a line feed \n; HELP text escapes only the
// backslash and the line feed. Expected strings are written out by hand from those rules.
#include <gtest/gtest.h>

#include "collector/http/api_server.h"
#include "collector/http/prometheus_text.h"

namespace imsm::collector::http {
namespace {

TEST(HttpPrometheusText, LabelValueEscapesBackslashQuoteAndNewline) {
  // a " b \ c <LF> d  ->  a \" b \\ c \n d
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("plain, {braces} = ok"), "plain, {braces} = ok");
  // A backslash already followed by n is two characters: each escaped on its own.
  EXPECT_EQ(escape_label_value("\\n"), "\\\\n");
}

TEST(HttpPrometheusText, HelpKeepsQuotes) {
  EXPECT_EQ(escape_help("say \"hi\"\\\n"), "say \"hi\"\\\\\\n");
}

TEST(HttpPrometheusText, SampleWithAndWithoutLabels) {
  std::string out;
  append_sample(out, "m_total", {}, "3");
  append_sample(out, "m_total", {{"a", "x\"y"}, {"b", ""}}, "0.5");
  EXPECT_EQ(out, "m_total 3\nm_total{a=\"x\\\"y\",b=\"\"} 0.5\n");
}

TEST(HttpPrometheusText, FamilyHeader) {
  std::string out;
  append_family(out, "m_total", "counter", "Bytes\nread");
  EXPECT_EQ(out, "# HELP m_total Bytes\\nread\n# TYPE m_total counter\n");
}

TEST(HttpServer, LoopbackHosts) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.1.2.3"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("localhost"));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_FALSE(is_loopback("::"));
  EXPECT_FALSE(is_loopback("10.0.0.127"));
  EXPECT_FALSE(is_loopback("127example.com"));
  EXPECT_FALSE(is_loopback("127.evil.example"));  // a name, not the loopback network
}

}  // namespace
}  // namespace imsm::collector::http
