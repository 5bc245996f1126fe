// Security defaults: loopback unless told otherwise (and a warning when not), limits
// and a deadline on request heads and bodies against slow or oversized clients, static pages
// that no path leads out of, --no-admin, and secrets masked in everything the emulator prints.
#include "tests/e2e/reliability_common.hpp"

#include <boost/asio/ip/address.hpp>

#include "config/config_loader.hpp"
#include "emulator/core/console_log.hpp"
#include "emulator/net/listener.hpp"
#include "emulator/core/redaction.hpp"
#include "emulator/core/tracer.hpp"

namespace apigw::e2e {
namespace {

std::string echo_api_json() {
  api_config api;
  api.add_route("$connect", "inspect").add_route("echo", "echo", true);
  return api.json();
}

// ---- where it listens --------------------------------------------------------------------------

TEST(ListenAddressTest, LoopbackIsTheDefaultAndNeedsNoWarning) {
  auto loaded = config::load_text(echo_api_json(), "api.json");
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->server.host, "127.0.0.1");

  temp_dir dir;
  write_text_file(dir.path("api.json"), echo_api_json());
  emulator_child e({"--config", dir.path("api.json"), "--port", "0", "--quiet"});
  ASSERT_NE(e.port(), 0) << e.startup_error();
  EXPECT_EQ(e.listening_line().rfind("listening on ws://127.0.0.1:", 0), 0u) << e.listening_line();
  const auto ended = e.stop();
  EXPECT_EQ(ended.status, 0);
  EXPECT_EQ(ended.err, "");
}

TEST(ListenAddressTest, AnotherLoopbackAddressNeedsNoWarning) {
  temp_dir dir;
  write_text_file(dir.path("api.json"), echo_api_json());
  emulator_child e({"--config", dir.path("api.json"), "--host", "127.0.0.2", "--port", "0", "--quiet"});
  ASSERT_NE(e.port(), 0) << e.startup_error();
  EXPECT_EQ(e.stop().err, "");
}

// Binding every address for the length of one handshake (over loopback) to see the warning.
TEST(ListenAddressTest, ANonLoopbackAddressIsWarnedAboutOnStandardError) {
  temp_dir dir;
  write_text_file(dir.path("api.json"), echo_api_json());
  emulator_child e({"--config", dir.path("api.json"), "--host", "0.0.0.0", "--port", "0", "--quiet"});
  ASSERT_NE(e.port(), 0) << e.startup_error();
  EXPECT_EQ(e.listening_line().rfind("listening on ws://0.0.0.0:", 0), 0u) << e.listening_line();
  ws_client c;
  EXPECT_TRUE(c.connect(e.options("/dev")).upgraded);
  c.close(1000);
  const auto ended = e.stop();
  EXPECT_EQ(ended.status, 0);
  EXPECT_EQ(ended.err, "apigw-ws-emulator: warning: listening on 0.0.0.0:" + std::to_string(e.port()) +
                           ", which is not a loopback address: other machines can open connections, call the "
                           "management API (@connections) and read /@emulator/, none of which asks for "
                           "credentials; use --host 127.0.0.1 unless that is what you want\n");
}

TEST(ListenAddressTest, WhatCountsAsLoopback) {
  for (const char* a : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(emulator::listener::is_loopback(boost::asio::ip::make_address(a))) << a;
  }
  for (const char* a : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1"}) {
    EXPECT_FALSE(emulator::listener::is_loopback(boost::asio::ip::make_address(a))) << a;
  }
}

// ---- request heads and bodies ------------------------------------------------------------------

class RequestLimitTest : public e2e_test {
 protected:
  void SetUp() override {
    api_config api;
    api.add_route("$connect", "rec").add_route("echo", "echo", true).add_integration("rec", recorder_integration());
    start(api);
  }

  ::testing::AssertionResult healthy() {
    ws_client c;
    if (!c.connect(server_->options()).upgraded) return ::testing::AssertionFailure() << "upgrade failed";
    return round_trip(c, R"({"action":"echo"})", R"({"action":"echo"})");
  }
};

// Slow loris: a request head sent one byte a second is cut off at the 30 s deadline for the
// whole head (a byte now and then does not extend it), and nobody else waits meanwhile.
TEST_F(RequestLimitTest, AHeadSentOneByteASecondIsCutOffAtTheDeadline) {
  raw_connection raw(2s);
  ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
  const auto began = steady::now();
  const std::string head = "GET /dev HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
  std::size_t sent = 0;
  long cut_at_ms = -1;
  while (elapsed_ms(began) < 40000) {
    if (!raw.peer_open() || !raw.send(head.substr(sent++ % head.size(), 1))) {
      cut_at_ms = elapsed_ms(began);
      break;
    }
    if (sent == 3) {
      EXPECT_TRUE(healthy());
    }
    std::this_thread::sleep_for(1s);
  }
  EXPECT_GE(cut_at_ms, 29000) << "cut before the deadline";
  EXPECT_LE(cut_at_ms, 33000) << "not cut at the deadline (-1: never)";
  EXPECT_EQ(recorder_->events("CONNECT").size(), 1u);  // only healthy()'s
  EXPECT_TRUE(healthy());
}

TEST_F(RequestLimitTest, AHeadOver16KiBGets431) {
  for (const auto& [what, extra] : std::vector<std::pair<std::string, std::string>>{
           {"one long header", "X-Big: " + std::string(17 * 1024, 'a') + "\r\n"},
           {"many headers", [] {
              std::string h;
              for (int i = 0; i < 400; ++i) h += "X-H" + std::to_string(i) + ": " + std::string(40, 'b') + "\r\n";
              return h;
            }()}}) {
    SCOPED_TRACE(what);
    raw_connection raw;
    ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
    ASSERT_TRUE(raw.send(upgrade_request("/dev", server_->host_port(), extra)));
    const auto res = raw.read_http_response();
    EXPECT_EQ(res.status, 431);
    EXPECT_TRUE(raw.wait_for_close(5s));
  }
  // Just under the limit is fine.
  raw_connection raw;
  ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
  ASSERT_TRUE(raw.send(upgrade_request("/dev", server_->host_port(), "X-Big: " + std::string(15 * 1024, 'a') + "\r\n")));
  EXPECT_EQ(raw.read_http_response().status, 101);
  EXPECT_EQ(recorder_->events("CONNECT").size(), 1u);
}

// A body over 1 MiB on a management or emulator call is refused from its Content-Length, before
// any of it is read; a chunked one once it passes the limit.
TEST_F(RequestLimitTest, AHugeBodyIsRefusedWith413WithoutReadingIt) {
  for (const std::string target : {"/dev/@connections/AAAAAAAAAAAAAAA=", "/@emulator/explain"}) {
    SCOPED_TRACE(target);
    raw_connection raw;
    ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
    const auto began = steady::now();
    ASSERT_TRUE(raw.send("POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n0123456789"));
    const auto res = raw.read_http_response();
    EXPECT_EQ(res.status, 413);
    EXPECT_EQ(res.header("x-amzn-ErrorType"), "PayloadTooLargeException");
    EXPECT_LT(elapsed_ms(began), 2000);
    EXPECT_TRUE(raw.wait_for_close(5s));
  }
  raw_connection raw(10s);
  ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
  ASSERT_TRUE(raw.send("POST /dev/@connections/AAAAAAAAAAAAAAA= HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'c') + "\r\n";
  for (int i = 0; i < 17 && raw.peer_open(); ++i) raw.send(chunk);  // 17 x 64 KiB > 1 MiB
  EXPECT_EQ(raw.read_http_response().status, 413);
  EXPECT_TRUE(healthy());
}

// A body nested a million levels deep (the most a 1 MiB body can be) is explained like any other
// text that is not JSON; parsing it once exhausted the I/O thread's stack and killed the process.
TEST_F(RequestLimitTest, ExplainingADeeplyNestedBodyAnswersAndKeepsServing) {
  const std::string deep(1024 * 1024 - 16, '[');
  const auto res = http_call(server_->port(), "POST", "/@emulator/explain", deep);
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find(R"("messageIsJson":false)"), std::string::npos) << res.body.substr(res.body.size() - 300);
  EXPECT_TRUE(healthy());
}

// ---- the static pages ---------------------------------------------------------------------------

// The pages are built into the binary; no spelling of a path reaches a file.
TEST_F(RequestLimitTest, NoPathLeadsOutOfThePages) {
  const std::vector<std::string> targets = {
      "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
      "/..%2f..%2f..%2fetc%2fpasswd", "/dev/../../etc/passwd", "/dev/%2e%2e/%2e%2e/etc/passwd",
      "/@emulator/../../etc/passwd", "/@emulator/%2e%2e/%2e%2e/etc/passwd", "/@emulator/..%2f..%2fetc%2fpasswd",
      "//etc/passwd", "/./etc/passwd", "/etc/passwd", "/index.html", "/web/index.html", "/dashboard.html",
      "/@emulator/dashboard.html", "/@emulator/../index.html", "/@emulator/..", "/..", "/%2e%2e",
      "/etc/passwd%00.html", "/..;/..;/etc/passwd", "/CMakeLists.txt", "/web/", "/proc/self/environ",
      "/@emulator/%2fetc%2fpasswd"};
  for (const auto& target : targets) {
    for (const char* method : {"GET", "HEAD"}) {
      SCOPED_TRACE(std::string(method) + " " + target);
      const auto res = http_call(server_->port(), method, target);
      // The emulator's endpoints answer HEAD with 405 (GET only); nothing answers 200.
      EXPECT_TRUE(res.status == 404 || (res.status == 405 && target.starts_with("/@emulator/")))
          << res.status << " " << res.body;
      EXPECT_EQ(res.body.find("root:"), std::string::npos);
      EXPECT_EQ(res.body.find("<html"), std::string::npos);
    }
  }
  EXPECT_EQ(http_call(server_->port(), "GET", "/..\\..\\etc\\passwd").status, 404);
  EXPECT_TRUE(healthy());
}

// ---- --no-admin ---------------------------------------------------------------------------------

// (AdminEndpointsTest and FeedTest cover routes, explain, health, feed, trace, connections.)
TEST(NoAdminTest, TheDashboardIsGoneTooWhileTheApiAndItsManagementStillServe) {
  temp_dir dir;
  write_text_file(dir.path("api.json"), echo_api_json());
  emulator_child e({"--config", dir.path("api.json"), "--port", "0", "--quiet", "--no-admin"});
  ASSERT_NE(e.port(), 0) << e.startup_error();
  for (const char* target : {"/@emulator/", "/@emulator", "/@emulator/index.html"}) {
    EXPECT_EQ(http_call(e.port(), "GET", target).status, 404) << target;
  }
  ws_client c;
  ASSERT_TRUE(c.connect(e.options("/dev")).upgraded);
  EXPECT_TRUE(round_trip(c, R"({"action":"echo"})", R"({"action":"echo"})"));
  EXPECT_EQ(http_call(e.port(), "GET", "/").status, 200);  // the chat page is not an admin page
  c.close(1000);
  EXPECT_EQ(e.stop().status, 0);
}

// ---- secrets ------------------------------------------------------------------------------------

TEST(RedactionTest, SecretValuesAreMaskedInEveryForm) {
  using emulator::redact_secrets;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/Prod?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fexecute-api%2Faws4_request"
       "&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7&X-Amz-SignedHeaders=host",
       "/Prod?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fexecute-api%2Faws4_request"
       "&X-Amz-Signature=5d67****&X-Amz-SignedHeaders=host"},
      {"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/execute-api/aws4_request, "
       "SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6\r\nHost: x",
       "Authorization: AWS4****\r\nHost: x"},
      {R"({"headers":{"Authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc","x-api-key":"abcd1234efgh5678ijkl","Host":"h"}})",
       R"({"headers":{"Authorization":"Bear****","x-api-key":"abcd****","Host":"h"}})"},
      {R"(event: {\"x-api-key\":\"short\",\"X-Amz-Security-Token\":\"FwoGZXIvYXdzEJr//////////wEaDNx\"})",
       R"(event: {\"x-api-key\":\"****\",\"X-Amz-Security-Token\":\"FwoG****\"})"},
      {"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY token=abc password: hunter2",
       "aws_secret_access_key=wJal**** token=**** password: ****"},
      {R"({"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})", R"({"secretAccessKey": "wJal****"})"},
      {"Cookie: session=0123456789abcdef0123", "Cookie: sess****"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(redact_secrets(in), out);
  // Words alone are not secrets; nor is anything else.
  for (const std::string plain : {"The request signature we calculated does not match the signature you provided",
                                  R"({"action":"sendmessage","data":"token"})", "route=$default status=200",
                                  "Unauthorized", "authorization failed"}) {
    EXPECT_EQ(redact_secrets(plain), plain);
  }
  EXPECT_FALSE(emulator::may_hold_secret("MESSAGE abc req=def selection=\"sendmessage\""));
  EXPECT_TRUE(emulator::may_hold_secret("x-api-key: k"));
  // A name part anywhere, in any case, up to the text's last character; nothing shorter.
  EXPECT_TRUE(emulator::may_hold_secret("token"));
  EXPECT_TRUE(emulator::may_hold_secret("a-TOKEN"));
  EXPECT_TRUE(emulator::may_hold_secret("X-Amz-Security-Token"));
  EXPECT_TRUE(emulator::may_hold_secret("myCookie"));
  EXPECT_FALSE(emulator::may_hold_secret("toke"));
  EXPECT_FALSE(emulator::may_hold_secret("echo"));
  EXPECT_FALSE(emulator::may_hold_secret(""));
}

TEST(RedactionTest, FunctionLogsTheTraceAndTheAccessLogPrintNoSecret) {
  const std::string signature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
  const std::string api_key = "abcd1234efgh5678ijkl";
  std::ostringstream functions, trace, access;
  {
    emulator::console_log log(functions);
    log.write("OnConnectFunction", "req", "INFO",
              R"(event {"headers":{"x-api-key":")" + api_key + R"("},"queryStringParameters":{"X-Amz-Signature":")" +
                  signature + R"("}})");
    emulator::tracer::options o;
    o.trace_out = &trace;
    auto format = emulator::access_log_format::parse("$context.error.message $context.status");
    ASSERT_TRUE(format) << format.error();
    o.access_format = *std::move(format);
    o.access_out = &access;
    emulator::tracer t(std::move(o));
    auto info = std::make_shared<emulator::connection_info>();
    info->id = "AAAAAAAAAAAAAAA=";
    emulator::trace_record r;
    r.event_type = "CONNECT";
    r.connection = info;
    r.request_id = "BBBBBBBBBBBBBBB=";
    r.status = 403;
    r.error = "Forbidden: X-Amz-Signature=" + signature + " x-api-key: " + api_key;
    t.record(std::move(r));
    ASSERT_EQ(t.last(1).size(), 1u);
    EXPECT_EQ(t.last(1)[0].find(signature), std::string::npos) << t.last(1)[0];
    EXPECT_NE(t.last(1)[0].find("X-Amz-Signature=5d67****"), std::string::npos) << t.last(1)[0];
  }  // the writers flush
  for (const auto& [what, text] : {std::pair{"function log", functions.str()}, {"trace", trace.str()}, {"access log", access.str()}}) {
    SCOPED_TRACE(what);
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.find(signature), std::string::npos) << text;
    EXPECT_EQ(text.find(api_key), std::string::npos) << text;
  }
}

// A handshake carrying every kind of secret: nothing the executable prints (trace, function
// logs, access log) or serves about it (/@emulator/trace, /@emulator/connections) has them.
TEST(RedactionTest, AHandshakesSecretsAppearNowhereTheEmulatorPrintsOrServes) {
  const std::string signature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
  const std::string api_key = "abcd1234efgh5678ijkl";
  const std::string bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl";
  api_config api;
  api.stage = R"({"name":"dev","accessLogFormat":"$context.requestId $context.eventType $context.status $context.error.message $context.domainName"})";
  api.add_route("$connect", "inspect").add_route("$disconnect", "inspect").add_route("echo", "echo", true);
  temp_dir dir;
  write_text_file(dir.path("api.json"), api.json());
  emulator_child e({"--config", dir.path("api.json"), "--port", "0", "--access-log", dir.path("access.log")});
  ASSERT_NE(e.port(), 0) << e.startup_error();
  ws_client c;
  auto o = e.options("/dev?X-Amz-Signature=" + signature + "&token=" + bearer);
  o.headers = {{"Authorization", "Bearer " + bearer}, {"x-api-key", api_key}};
  ASSERT_TRUE(c.connect(o).upgraded);
  ASSERT_TRUE(round_trip(c, R"({"action":"echo"})", R"({"action":"echo"})"));
  const auto served_trace = http_call(e.port(), "GET", "/@emulator/trace?limit=1000").body;
  const auto served_connections = http_call(e.port(), "GET", "/@emulator/connections").body;
  c.close(1000);
  const auto ended = e.stop();
  EXPECT_EQ(ended.status, 0);
  for (const auto& [what, text] : {std::pair{"standard error", ended.err}, {"access log", read_text_file(dir.path("access.log"))},
                                   {"/@emulator/trace", served_trace}, {"/@emulator/connections", served_connections}}) {
    SCOPED_TRACE(what);
    for (const auto& secret : {signature, api_key, bearer}) EXPECT_EQ(text.find(secret), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace apigw::e2e
