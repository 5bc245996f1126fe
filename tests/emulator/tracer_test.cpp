#include "emulator/core/tracer.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace apigw::emulator {
namespace {

access_log_format format_of(std::string_view text) {
  auto f = access_log_format::parse(text);
  if (!f) {
    ADD_FAILURE() << f.error();
    return {};
  }
  return *std::move(f);
}

trace_record message_record() {
  trace_record r;
  r.time = std::chrono::system_clock::time_point{std::chrono::milliseconds(1705504440469)};
  r.event_type = "MESSAGE";
  auto connection = std::make_shared<connection_info>();
  connection->id = "RsGpzfNaoE0CIqg=";
  connection->source_ip = "127.0.0.1";
  connection->domain_name = "localhost:8080";
  connection->connected_at = std::chrono::system_clock::time_point{std::chrono::milliseconds(1705503499229)};
  r.connection = std::move(connection);
  r.request_id = "RsI83FhYIE0FvxQ=";
  r.message_id = "RsI83cCDIE0CIqg=";
  r.selection = "sendMessage";
  r.why = "no route";
  r.status = 403;
  r.error = "Forbidden";
  r.bytes = 36;
  return r;
}

TEST(TracerTest, JsonRecordHasEveryField) {
  EXPECT_EQ(tracer::to_json(message_record()),
            R"({"time":"2024-01-17T15:14:00.469Z","eventType":"MESSAGE","connectionId":"RsGpzfNaoE0CIqg=",)"
            R"("requestId":"RsI83FhYIE0FvxQ=","selection":"sendMessage","routeKey":null,"why":"no route",)"
            R"("integration":null,"status":403,"error":"Forbidden","closeCode":null,"closeReason":null,)"
            R"("latencyMs":0.0,"bytes":36})");
}

TEST(TracerTest, TextRecordReadsAsOneLine) {
  EXPECT_EQ(tracer::to_text(message_record()),
            "2024-01-17T15:14:00.469Z MESSAGE RsGpzfNaoE0CIqg= req=RsI83FhYIE0FvxQ= selection=\"sendMessage\" "
            "route=(none) (no route) status=403 error=\"Forbidden\" bytes=36");
  auto r = message_record();
  r.selection.reset();
  r.route_key = "$default";
  r.why = "fell back to $default";
  r.integration = "fallback";
  r.status = 200;
  r.error.reset();
  r.latency_ms = 1.5;
  EXPECT_EQ(tracer::to_text(r),
            "2024-01-17T15:14:00.469Z MESSAGE RsGpzfNaoE0CIqg= req=RsI83FhYIE0FvxQ= selection=(not JSON) "
            "route=$default (fell back to $default) integration=fallback status=200 bytes=36 latency=1.50ms");
}

TEST(TracerTest, KeepsTheLastRecordsAndFeedsSubscribers) {
  tracer::options o;
  o.keep = 3;
  tracer t(std::move(o));
  std::vector<std::string> seen;
  const auto id = t.subscribe([&seen](const std::string& json) { seen.push_back(json); });
  for (int i = 0; i < 5; ++i) {
    auto r = message_record();
    r.bytes = static_cast<std::size_t>(i);
    t.record(std::move(r));
  }
  t.unsubscribe(id);
  t.record(message_record());
  EXPECT_EQ(seen.size(), 5u);
  const auto last = t.last(2);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_NE(last[0].find(R"("bytes":4)"), std::string::npos);
  EXPECT_NE(last[1].find(R"("bytes":36)"), std::string::npos);
  const auto all = t.last(100);  // the ring has wrapped twice over: still oldest first
  ASSERT_EQ(all.size(), 3u);
  EXPECT_NE(all[0].find(R"("bytes":3)"), std::string::npos);
  EXPECT_EQ(all[1], last[0]);
  EXPECT_EQ(all[2], last[1]);
}

TEST(TracerTest, WritesTraceAndAccessLogLines) {
  std::ostringstream trace_out;
  std::ostringstream access_out;
  {
    tracer::options o;
    o.trace_out = &trace_out;
    o.trace_format = tracer::format::json;
    o.access_format = format_of("$context.requestId $context.status");
    o.access_out = &access_out;
    tracer t(std::move(o));
    t.record(message_record());
  }  // the writers flush when the tracer goes
  EXPECT_EQ(trace_out.str(), tracer::to_json(message_record()) + "\n");
  EXPECT_EQ(access_out.str(), "RsI83FhYIE0FvxQ= 403\n");
}

TEST(AccessLogTest, RendersEveryVariable) {
  std::string format;
  for (auto v : access_log_format::variables()) format += std::string("$context.") + std::string(v) + "|";
  const auto f = format_of(format);
  EXPECT_EQ(f.render(message_record(), {"abcdefghij", "dev"}),
            "abcdefghij|-|1705503499229|RsGpzfNaoE0CIqg=|localhost:8080|Forbidden|DEFAULT_4XX|MESSAGE|"
            "RsI83FhYIE0FvxQ=|127.0.0.1|-|RsI83cCDIE0CIqg=|RsI83FhYIE0FvxQ=|17/Jan/2024:15:14:00 +0000|"
            "1705504440469|-|dev|403|");
}

TEST(AccessLogTest, KeepsLiteralsAndTrailingDots) {
  const auto f = format_of(R"({"id":"$context.requestId","route":"$context.routeKey"} ended $context.status.)");
  EXPECT_EQ(f.render(message_record(), {"a", "b"}), R"({"id":"RsI83FhYIE0FvxQ=","route":"-"} ended 403.)");
}

TEST(AccessLogTest, UnknownVariableIsAnError) {
  auto parsed = access_log_format::parse("$context.requestId $context.httpMethod");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().rfind(
                "$context.httpMethod at position 19 is not a variable of WebSocket access logs; they are apiId, ", 0),
            0u)
      << parsed.error();
}

}  // namespace
}  // namespace apigw::emulator
