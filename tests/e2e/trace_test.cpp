// The routing trace, access logs and the emulator's trace endpoints, through the real executable:
// the trace on standard error (JSON lines and text), the stage's access log (to a file and to
// standard output), GET /@emulator/trace, the live GET /@emulator/feed, and --log-level/--quiet.
#include "tests/e2e/e2e_common.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <functional>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "tests/support/child_process.hpp"

#ifndef APIGW_EMULATOR_BINARY
#error "APIGW_EMULATOR_BINARY must name the apigw-ws-emulator executable"
#endif

namespace apigw::e2e {
namespace {

// ---- helpers ---------------------------------------------------------------------------------

const std::string kTime = R"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z)";

// Polls CONDITION every 10 ms until it holds or TIMEOUT passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string write_file(const temp_dir& dir, std::string_view name, std::string_view text) {
  const std::string path = dir.path(name);
  std::ofstream(path) << text;
  return path;
}

// The apigw-ws-emulator executable, started with ARGS; the port comes from its listening line.
class emulator_process {
 public:
  explicit emulator_process(const std::vector<std::string>& args, std::string_view stage = "dev")
      : child_(APIGW_EMULATOR_BINARY, args) {
    listening_line_ = child_.read_stdout_line(10s);
    const std::regex re("^listening on ws://127\\.0\\.0\\.1:([0-9]+)/" + regex_escape(stage) + "\n$");
    std::smatch m;
    if (std::regex_match(listening_line_, m, re)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      (void)child_.read_stdout_line(10s);  // the HTTP endpoint's line
    }
  }

  std::uint16_t port() const { return port_; }
  const std::string& listening_line() const { return listening_line_; }
  std::string startup_error() { return "stdout: \"" + listening_line_ + "\", stderr: " + child_.read_stderr_all(200ms); }

  connect_options options(std::string_view stage = "dev") const {
    connect_options o;
    o.port = port_;
    o.target = "/" + std::string(stage);
    return o;
  }

  // The records GET /@emulator/trace?limit=1000 answers, each as its JSON text.
  std::vector<std::string> trace() const {
    const auto r = http_call(port_, "GET", "/@emulator/trace?limit=1000");
    std::vector<std::string> records;
    const json_doc doc(r.body);
    const auto* list = doc.at("trace");
    if (r.status != 200 || list == nullptr || !list->IsArray()) return records;
    for (const auto& v : list->GetArray()) records.push_back(to_json(v));
    return records;
  }

  // Waits until the trace holds COUNT records, the last of event type EVENT_TYPE.
  bool wait_for_trace(std::size_t count, std::string_view event_type) const {
    return eventually([&] {
      const auto t = trace();
      return t.size() == count && json_doc(t.back()).str("eventType") == event_type;
    });
  }

  struct ended {
    std::optional<int> status;
    std::string out;  // what followed the two ready lines
    std::string err;
  };
  // SIGTERM, then everything the process wrote until it exited.
  ended stop() {
    ended e;
    child_.signal(SIGTERM);
    e.status = child_.wait(15s);
    e.out = child_.read_stdout_all(5s);
    e.err = child_.read_stderr_all(5s);
    return e;
  }

 private:
  child_process child_;
  std::string listening_line_;
  std::uint16_t port_ = 0;
};

// A line of the JSON trace with its variable fields (time, requestId, latencyMs) checked for
// shape and replaced by "<time>", "<id>" and <ms>, so that the rest compares exactly.
struct json_trace_line {
  std::string shape;
  std::string time;
  std::string request_id;
  double latency_ms = -1;
};

json_trace_line normalise(const std::string& line) {
  json_trace_line t;
  t.shape = line;
  std::smatch m;
  static const std::regex time_re("\"time\":\"(" + kTime + ")\"");
  if (std::regex_search(t.shape, m, time_re)) {
    t.time = m[1];
    t.shape.replace(static_cast<std::size_t>(m.position(0)), static_cast<std::size_t>(m.length(0)),
                    "\"time\":\"<time>\"");
  }
  static const std::regex id_re("\"requestId\":\"(" + id_pattern + ")\"");
  if (std::regex_search(t.shape, m, id_re)) {
    t.request_id = m[1];
    t.shape.replace(static_cast<std::size_t>(m.position(0)), static_cast<std::size_t>(m.length(0)),
                    "\"requestId\":\"<id>\"");
  }
  static const std::regex latency_re(R"("latencyMs":([0-9]+\.[0-9]{1,2}))");
  if (std::regex_search(t.shape, m, latency_re)) {
    t.latency_ms = std::stod(m[1]);
    t.shape.replace(static_cast<std::size_t>(m.position(0)), static_cast<std::size_t>(m.length(0)),
                    "\"latencyMs\":<ms>");
  }
  return t;
}

// The expected shape of a JSON trace line (see normalise()); the optional fields are JSON text
// ("null", "\"echo\"", "200").
std::string shape(std::string_view event_type, std::string_view connection_id, std::string_view selection,
                  std::string_view route_key, std::string_view why, std::string_view integration,
                  std::string_view status, std::string_view error, std::string_view close_code,
                  std::string_view close_reason, std::size_t bytes) {
  std::string s = "{\"time\":\"<time>\",\"eventType\":\"" + std::string(event_type) + "\",\"connectionId\":\"" +
                  std::string(connection_id) + "\",\"requestId\":\"<id>\"";
  s += ",\"selection\":" + std::string(selection);
  s += ",\"routeKey\":" + std::string(route_key);
  s += ",\"why\":" + std::string(why);
  s += ",\"integration\":" + std::string(integration);
  s += ",\"status\":" + std::string(status);
  s += ",\"error\":" + std::string(error);
  s += ",\"closeCode\":" + std::string(close_code);
  s += ",\"closeReason\":" + std::string(close_reason);
  s += ",\"latencyMs\":<ms>,\"bytes\":" + std::to_string(bytes) + "}";
  return s;
}

std::string q(std::string_view s) { return json_string(s); }

// The JSON trace lines ("{…}") of standard error, in order; function log lines ("[name] …") are
// left out.
std::vector<std::string> json_lines(const std::string& err) {
  std::vector<std::string> out;
  for (auto& line : lines_of(err)) {
    if (!line.empty() && line.front() == '{') out.push_back(line);
  }
  return out;
}

// The connection and request id of an error frame {"message": …, "connectionId":…, "requestId":…}.
std::pair<std::string, std::string> ids_of_error_frame(const ws_message& m) {
  static const std::regex re(R"re("connectionId":"([^"]+)", "requestId":"([^"]+)")re");
  std::smatch s;
  if (m.type != ws_message::kind::text || !std::regex_search(m.data, s, re)) return {};
  return {s[1], s[2]};
}

// An API with a $connect and $disconnect route, a route that throws, and $default; the routes
// that answer run "inspect", so the client learns its connection id and each request id.
std::string routed_api() {
  api_config api;
  api.add_route("$connect", "connect")
      .add_route("$disconnect", "disconnect")
      .add_route("whoami", "inspect", true)
      .add_route("boom", "boom", true)
      .add_route("$default", "inspect", true)
      .add_integration("connect", builtin("mock"))
      .add_integration("disconnect", builtin("mock"))
      .add_integration("boom", builtin("mock", R"({"throw":"kaboom"})"));
  return api.json();
}

// An API with one route, "echo", and no $default, $connect or $disconnect.
std::string echo_only_api(std::string stage = R"({"name":"dev"})") {
  api_config api;
  api.stage = std::move(stage);
  api.add_route("echo", "echo", true);
  return api.json();
}

// The requestContext of an inspect handler's reply.
struct inspected {
  std::string connection_id;
  std::string request_id;
};

inspected inspect_reply(const ws_message& m) {
  if (m.type != ws_message::kind::text) return {};
  const json_doc event(m.data);
  return {event.str("requestContext.connectionId").value_or(""), event.str("requestContext.requestId").value_or("")};
}

// ---- the routing trace on standard error -----------------------------------------------------

TEST(TraceTest, JsonLinesOneEventEachWithTheDecisionAndOutcome) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", routed_api());
  emulator_process emulator({"--config", config, "--port", "0", "--log-format", "json"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();

  ws_client client;
  ASSERT_TRUE(client.connect(emulator.options()).upgraded);
  ASSERT_TRUE(client.send_text(R"({"action":"whoami"})"));
  const inspected exact = inspect_reply(client.read());
  ASSERT_TRUE(is_id(exact.connection_id)) << exact.connection_id;
  const std::string cid = exact.connection_id;

  ASSERT_TRUE(client.send_text("hello, not JSON"));
  const inspected not_json = inspect_reply(client.read());
  ASSERT_EQ(not_json.connection_id, cid);

  ASSERT_TRUE(client.send_text(R"({"action":"nope"})"));
  const inspected fell_back = inspect_reply(client.read());
  ASSERT_EQ(fell_back.connection_id, cid);

  ASSERT_TRUE(client.send_text(R"({"action":"boom"})"));
  const auto failed = client.read();
  ASSERT_TRUE(is_error_frame(failed, "Internal server error", cid));
  const std::string boom_request = ids_of_error_frame(failed).second;

  const auto closed = client.close(1000, "bye");
  EXPECT_EQ(closed.type, ws_message::kind::close) << closed;
  ASSERT_TRUE(emulator.wait_for_trace(6, "DISCONNECT"));
  const auto kept = emulator.trace();

  const auto ended = emulator.stop();
  EXPECT_EQ(ended.status, 0);
  const auto lines = json_lines(ended.err);
  ASSERT_EQ(lines.size(), 6u) << ended.err;

  std::vector<json_trace_line> t;
  for (const auto& line : lines) t.push_back(normalise(line));
  EXPECT_EQ(t[0].shape, shape("CONNECT", cid, "null", q("$connect"), "null", q("connect"), "101", "null", "null",
                              "null", 0));
  EXPECT_EQ(t[1].shape, shape("MESSAGE", cid, q("whoami"), q("whoami"), q("exact match"), q("inspect"), "200",
                              "null", "null", "null", std::string(R"({"action":"whoami"})").size()));
  EXPECT_EQ(t[2].shape, shape("MESSAGE", cid, "null", q("$default"), q("fell back to $default"), q("inspect"),
                              "200", "null", "null", "null", std::string("hello, not JSON").size()));
  EXPECT_EQ(t[3].shape, shape("MESSAGE", cid, q("nope"), q("$default"), q("fell back to $default"), q("inspect"),
                              "200", "null", "null", "null", std::string(R"({"action":"nope"})").size()));
  EXPECT_EQ(t[4].shape, shape("MESSAGE", cid, q("boom"), q("boom"), q("exact match"), q("boom"), "500",
                              q("Internal server error"), "null", "null", std::string(R"({"action":"boom"})").size()));
  EXPECT_EQ(t[5].shape, shape("DISCONNECT", cid, "null", q("$disconnect"), "null", q("disconnect"), "200", "null",
                              "1000", q("bye"), 0));

  // The request ids are those the handlers and the client saw; every one differs.
  EXPECT_EQ(t[1].request_id, exact.request_id);
  EXPECT_EQ(t[2].request_id, not_json.request_id);
  EXPECT_EQ(t[3].request_id, fell_back.request_id);
  EXPECT_EQ(t[4].request_id, boom_request);
  std::vector<std::string> ids;
  for (const auto& r : t) {
    EXPECT_TRUE(is_id(r.request_id)) << r.shape;
    EXPECT_GE(r.latency_ms, 0.0) << r.shape;
    EXPECT_LT(r.latency_ms, 1000.0) << r.shape;
    ids.push_back(r.request_id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end()) << "request ids repeat";
  for (std::size_t i = 1; i < t.size(); ++i) EXPECT_LE(t[i - 1].time, t[i].time) << "times go backwards";

  // GET /@emulator/trace keeps the very same records.
  EXPECT_EQ(kept, lines);
  // The functions' log streams are printed too, next to the trace.
  EXPECT_NE(ended.err.find("[boom] "), std::string::npos) << ended.err;
  EXPECT_NE(ended.err.find("Invoke Error"), std::string::npos) << ended.err;
}

TEST(TraceTest, JsonLinesForAMessageNoRouteTakes) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", echo_only_api());
  emulator_process emulator({"--config", config, "--port", "0", "--log-format", "json"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();

  ws_client client;
  ASSERT_TRUE(client.connect(emulator.options()).upgraded);
  ASSERT_TRUE(client.send_text(R"({"action":"sendMessage","data":"hi"})"));
  const auto forbidden = client.read();
  ASSERT_TRUE(is_error_frame(forbidden, "Forbidden", ""));
  const auto [cid, misspelt_request] = ids_of_error_frame(forbidden);
  ASSERT_TRUE(client.send_text("plain text"));
  const auto forbidden_too = client.read();
  ASSERT_TRUE(is_error_frame(forbidden_too, "Forbidden", cid));
  ASSERT_TRUE(round_trip(client, R"({"action":"echo"})", R"({"action":"echo"})"));
  client.drop();
  ASSERT_TRUE(emulator.wait_for_trace(5, "DISCONNECT"));

  const auto ended = emulator.stop();
  EXPECT_EQ(ended.status, 0);
  const auto lines = json_lines(ended.err);
  ASSERT_EQ(lines.size(), 5u) << ended.err;
  std::vector<json_trace_line> t;
  for (const auto& line : lines) t.push_back(normalise(line));
  // No $connect route: the handshake is accepted (101) without an integration.
  EXPECT_EQ(t[0].shape, shape("CONNECT", cid, "null", "null", "null", "null", "101", "null", "null", "null", 0));
  EXPECT_EQ(t[1].shape, shape("MESSAGE", cid, q("sendMessage"), "null", q("no route"), "null", "403",
                              q("Forbidden"), "null", "null", 36));
  EXPECT_EQ(t[2].shape, shape("MESSAGE", cid, "null", "null", q("no route"), "null", "403", q("Forbidden"), "null",
                              "null", 10));
  EXPECT_EQ(t[3].shape, shape("MESSAGE", cid, q("echo"), q("echo"), q("exact match"), q("echo"), "200", "null",
                              "null", "null", 17));
  // A dropped TCP connection: 1006, without a route or status.
  EXPECT_EQ(t[4].shape, shape("DISCONNECT", cid, "null", "null", "null", "null", "null", "null", "1006",
                              q("Connection closed abnormally"), 0));
  EXPECT_EQ(t[1].request_id, misspelt_request);
  EXPECT_EQ(t[2].request_id, ids_of_error_frame(forbidden_too).second);
  // Nothing was invoked for the forbidden messages or the route-less events.
  for (const std::size_t i : {0u, 1u, 2u, 4u}) EXPECT_EQ(t[i].latency_ms, 0.0) << t[i].shape;
}

TEST(TraceTest, TextLinesOnTheLab) {
  // The built-in lab API (stage Prod), its own handlers, the trace as text.
  emulator_process emulator({"--port", "0"}, "Prod");
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();

  ws_client client;
  ASSERT_TRUE(client.connect(emulator.options("Prod")).upgraded);
  const std::string misspelt = R"({"action":"sendMessage","data":"hello"})";
  ASSERT_TRUE(client.send_text(misspelt));
  const auto forbidden = client.read();
  ASSERT_TRUE(is_error_frame(forbidden, "Forbidden", ""));
  const auto [cid, rid] = ids_of_error_frame(forbidden);
  const std::string right = R"({"action":"sendmessage","data":"hello"})";
  ASSERT_TRUE(client.send_text(right));
  EXPECT_TRUE(client.read().is_text("hello"));
  EXPECT_TRUE(client.close(1000, "").is_close(1000, ""));
  ASSERT_TRUE(emulator.wait_for_trace(4, "DISCONNECT"));

  const auto ended = emulator.stop();
  EXPECT_EQ(ended.status, 0);
  std::vector<std::string> trace;  // the lines that start with a time; the others are function logs
  for (auto& line : lines_of(ended.err)) {
    if (std::regex_search(line, std::regex("^" + kTime + " "))) trace.push_back(line);
  }
  ASSERT_EQ(trace.size(), 4u) << ended.err;
  const std::string c = regex_escape(cid);
  const std::string latency = R"( latency=[0-9]+\.[0-9]{2}ms)";
  const std::vector<std::string> expected = {
      "^" + kTime + " CONNECT " + c + " req=" + id_pattern +
          R"( route=\$connect integration=OnConnectFunction status=101)" + latency + "$",
      "^" + kTime + " MESSAGE " + c + " req=" + regex_escape(rid) +
          R"( selection="sendMessage" route=\(none\) \(no route\) status=403 error="Forbidden" bytes=)" +
          std::to_string(misspelt.size()) + "$",
      "^" + kTime + " MESSAGE " + c + " req=" + id_pattern +
          R"( selection="sendmessage" route=sendmessage \(exact match\) integration=SendMessageFunction status=200 bytes=)" +
          std::to_string(right.size()) + latency + "$",
      "^" + kTime + " DISCONNECT " + c + " req=" + id_pattern +
          R"( route=\$disconnect integration=OnDisconnectFunction status=200 close=1000 "")" +
          latency + "$",
  };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(std::regex_match(trace[i], std::regex(expected[i]))) << trace[i] << "\n  does not match\n" << expected[i];
  }
}

// One event's lines come out in one order: the function's START … REPORT, then the event's trace
// line (the trace and the function logs share one writer).
TEST(TraceTest, AnEventsFunctionLinesPrecedeItsTraceLine) {
  emulator_process emulator({"--port", "0"}, "Prod");
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  std::vector<ws_client> clients(4);
  for (auto& c : clients) ASSERT_TRUE(c.connect(emulator.options("Prod")).upgraded);
  for (int round = 0; round < 10; ++round) {
    for (auto& c : clients) ASSERT_TRUE(c.send_text(R"({"action":"sendmessage","data":"x"})"));
    for (auto& c : clients) {
      for (std::size_t i = 0; i < clients.size(); ++i) ASSERT_TRUE(c.read().is_text("x"));
    }
  }
  for (auto& c : clients) c.close(1000, "");
  ASSERT_TRUE(emulator.wait_for_trace(4 + 40 + 4, "DISCONNECT"));
  const auto lines = lines_of(emulator.stop().err);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_search(lines[i], m, std::regex("^" + kTime + " (CONNECT|MESSAGE|DISCONNECT) \\S+ req=(\\S+)"))) continue;
    const std::string report = "] REPORT RequestId: " + std::string(m[2]);
    const auto at = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.find(report) != std::string::npos;
    });
    ASSERT_NE(at, lines.end()) << lines[i];
    EXPECT_LT(static_cast<std::size_t>(at - lines.begin()), i) << "the trace line came before its REPORT: " << lines[i];
    ++checked;
  }
  EXPECT_EQ(checked, 48u);
}

TEST(TraceTest, LogLevelWarnAndQuietPrintNeitherTraceNorFunctionLogs) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", routed_api());
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"--log-level", "warn"}, {"--log-level", "error"}, {"--quiet"}, {"--log-format", "json", "--quiet"}}) {
    std::string joined;
    for (const auto& f : flags) joined += f + " ";
    SCOPED_TRACE(joined);
    std::vector<std::string> args = {"--config", config, "--port", "0"};
    args.insert(args.end(), flags.begin(), flags.end());
    emulator_process emulator(args);
    ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
    ws_client client;
    ASSERT_TRUE(client.connect(emulator.options()).upgraded);
    ASSERT_TRUE(client.send_text(R"({"action":"whoami"})"));
    EXPECT_EQ(client.read().type, ws_message::kind::text);
    ASSERT_TRUE(client.send_text(R"({"action":"boom"})"));
    EXPECT_TRUE(is_error_frame(client.read(), "Internal server error", ""));
    client.close(1000, "");
    // Still traced, for the endpoints and the dashboard; only not printed.
    ASSERT_TRUE(emulator.wait_for_trace(4, "DISCONNECT"));
    const auto ended = emulator.stop();
    EXPECT_EQ(ended.status, 0);
    EXPECT_EQ(ended.err, "");
    EXPECT_EQ(ended.out, "");
  }
}

TEST(TraceTest, UnknownLogLevelOrFormatExitsTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--log-level", "verbose"}, {"--log-format", "xml"}}) {
    child_process child(APIGW_EMULATOR_BINARY, args);
    EXPECT_EQ(child.wait(10s), 2);
    EXPECT_EQ(child.read_stdout_all(1s), "");
    const std::string err = child.read_stderr_all(1s);
    EXPECT_NE(err.find("\"" + args[1] + "\""), std::string::npos) << err;
  }
}

// ---- access logs ------------------------------------------------------------------------------

const std::string kAccessFormat =
    "$context.requestId $context.routeKey $context.status $context.connectionId $context.eventType "
    "$context.error.message $context.identity.sourceIp $context.stage $context.apiId";

std::string access_log_api() {
  api_config api;
  api.stage = R"({"name":"dev","accessLogFormat":)" + json_string(kAccessFormat) + "}";
  api.add_route("$connect", "connect").add_route("echo", "echo", true).add_integration("connect", builtin("mock"));
  return api.json();
}

// Connects, sends one message a route takes and one no route takes, closes; returns the
// connection id and the records GET /@emulator/trace kept.
std::pair<std::string, std::vector<std::string>> access_log_session(const emulator_process& emulator) {
  ws_client client;
  if (!client.connect(emulator.options()).upgraded) {
    ADD_FAILURE() << "no connection";
    return {};
  }
  EXPECT_TRUE(round_trip(client, R"({"action":"echo"})", R"({"action":"echo"})"));
  EXPECT_TRUE(client.send_text(R"({"action":"sendMessage"})"));
  const auto forbidden = client.read();
  EXPECT_TRUE(is_error_frame(forbidden, "Forbidden", ""));
  client.close(1000, "");
  EXPECT_TRUE(emulator.wait_for_trace(4, "DISCONNECT"));
  return {ids_of_error_frame(forbidden).first, emulator.trace()};
}

// The four access log lines of access_log_session(), exactly.
std::vector<std::string> expected_access_lines(const std::string& cid, const std::vector<std::string>& trace) {
  std::vector<std::string> ids;
  for (const auto& r : trace) ids.push_back(json_doc(r).str("requestId").value_or("?"));
  if (ids.size() != 4) return {};
  const std::string tail = " 127.0.0.1 dev e2eapi0001";
  return {
      ids[0] + " $connect 101 " + cid + " CONNECT -" + tail,
      ids[1] + " echo 200 " + cid + " MESSAGE -" + tail,
      ids[2] + " - 403 " + cid + " MESSAGE Forbidden" + tail,
      ids[3] + " - - " + cid + " DISCONNECT -" + tail,
  };
}

TEST(AccessLogTest, OneLinePerEventInTheFileWithDashesForMissingValues) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", access_log_api());
  const std::string log = dir.path("access.log");
  emulator_process emulator({"--config", config, "--port", "0", "--access-log", log, "--quiet"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  const auto [cid, trace] = access_log_session(emulator);
  ASSERT_TRUE(is_id(cid));
  const auto ended = emulator.stop();
  EXPECT_EQ(ended.status, 0);
  EXPECT_EQ(ended.out, "") << "the access log went to the file only";
  EXPECT_EQ(ended.err, "");
  const auto expected = expected_access_lines(cid, trace);
  ASSERT_EQ(expected.size(), 4u);
  EXPECT_EQ(lines_of(read_file(log)), expected);
  for (const auto& line : expected) EXPECT_TRUE(is_id(line.substr(0, 16))) << line;
}

TEST(AccessLogTest, WithoutAccessLogFlagTheLinesFollowTheListeningLineOnStdout) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", access_log_api());
  emulator_process emulator({"--config", config, "--port", "0", "--quiet"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  const auto [cid, trace] = access_log_session(emulator);
  const auto ended = emulator.stop();
  EXPECT_EQ(ended.status, 0);
  const auto expected = expected_access_lines(cid, trace);
  ASSERT_EQ(expected.size(), 4u);
  EXPECT_EQ(lines_of(ended.out), expected);
}

TEST(AccessLogTest, AllTheOtherVariables) {
  temp_dir dir;
  api_config api;
  api.stage = R"({"name":"dev","accessLogFormat":"[$context.eventType] ext=$context.extendedRequestId )"
              R"(msg=$context.messageId type=$context.error.responseType lat=$context.integrationLatency )"
              R"(t=$context.requestTime epoch=$context.requestTimeEpoch at=$context.connectedAt )"
              R"(host=$context.domainName who=$context.authorizer.principalId, status $context.status."})";
  api.add_route("echo", "echo", true);
  const auto config = write_file(dir, "api.json", api.json());
  const std::string log = dir.path("access.log");
  emulator_process emulator({"--config", config, "--port", "0", "--access-log", log, "--quiet"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  ws_client client;
  auto o = emulator.options();
  o.host_header = "chat.example.com";
  ASSERT_TRUE(client.connect(o).upgraded);
  ASSERT_TRUE(round_trip(client, R"({"action":"echo"})", R"({"action":"echo"})"));
  ASSERT_TRUE(client.send_text("nope"));
  EXPECT_TRUE(is_error_frame(client.read(), "Forbidden", ""));
  client.close(1000, "");
  ASSERT_TRUE(emulator.wait_for_trace(4, "DISCONNECT"));
  const auto trace = emulator.trace();
  const auto ended = emulator.stop();
  EXPECT_EQ(ended.status, 0);
  const auto lines = lines_of(read_file(log));
  ASSERT_EQ(lines.size(), 4u);
  const std::string id = id_pattern;
  const std::string time = R"([0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000)";
  const std::string tail = R"( epoch=[0-9]{13} at=[0-9]{13} host=chat\.example\.com who=-, status )";
  const std::vector<std::string> expected = {
      R"(^\[CONNECT\] ext=)" + id + " msg=- type=- lat=- t=" + time + tail + "101\\.$",
      R"(^\[MESSAGE\] ext=)" + id + " msg=" + id + " type=- lat=[0-9]+ t=" + time + tail + "200\\.$",
      R"(^\[MESSAGE\] ext=)" + id + " msg=" + id + " type=DEFAULT_4XX lat=- t=" + time + tail + "403\\.$",
      R"(^\[DISCONNECT\] ext=)" + id + " msg=- type=- lat=- t=" + time + tail + "-\\.$",
  };
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::regex_match(lines[i], std::regex(expected[i]))) << lines[i] << "\n  does not match\n"
                                                                      << expected[i];
    // extendedRequestId is the request id.
    const auto rid = json_doc(trace.at(i)).str("requestId").value_or("?");
    EXPECT_NE(lines[i].find(" ext=" + rid + " "), std::string::npos) << lines[i];
  }
}

TEST(AccessLogTest, UnknownVariableExitsTwoNamingIt) {
  temp_dir dir;
  api_config api;
  api.stage = R"({"name":"dev","accessLogFormat":"$context.requestId $context.routekey"})";
  api.add_route("echo", "echo", true);
  const auto config = write_file(dir, "api.json", api.json());
  child_process child(APIGW_EMULATOR_BINARY, {"--config", config, "--port", "0"});
  EXPECT_EQ(child.wait(10s), 2);
  EXPECT_EQ(child.read_stdout_all(1s), "");
  const std::string err = child.read_stderr_all(1s);
  EXPECT_EQ(err.rfind("apigw-ws-emulator: " + config +
                          ": stage.accessLogFormat: $context.routekey at position 19 is not a variable of "
                          "WebSocket access logs; they are apiId, ",
                      0),
            0u)
      << err;
  EXPECT_NE(err.find("routeKey"), std::string::npos) << err;
}

// ---- GET /@emulator/trace --------------------------------------------------------------------

TEST(TraceEndpointTest, LimitGivesTheLastRecordsOldestFirst) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", echo_only_api());
  emulator_process emulator({"--config", config, "--port", "0", "--quiet"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();

  ws_client client;
  ASSERT_TRUE(client.connect(emulator.options()).upgraded);
  std::vector<std::string> request_ids;
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(client.send_text(R"({"action":"a)" + std::to_string(i) + "\"}"));
    const auto m = client.read();
    ASSERT_TRUE(is_error_frame(m, "Forbidden", ""));
    request_ids.push_back(ids_of_error_frame(m).second);
  }

  const auto records = [&](std::string_view query) {
    const auto r = http_call(emulator.port(), "GET", "/@emulator/trace" + std::string(query));
    EXPECT_EQ(r.status, 200) << query;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const json_doc doc(r.body);
    std::vector<std::pair<std::string, std::string>> out;  // (eventType, selection or requestId)
    const auto* list = doc.at("trace");
    if (list == nullptr || !list->IsArray()) {
      ADD_FAILURE() << r.body;
      return out;
    }
    for (const auto& v : list->GetArray()) {
      const json_doc rec(to_json(v));
      out.emplace_back(rec.str("eventType").value_or("?"), rec.str("requestId").value_or("?"));
    }
    return out;
  };
  using rows = std::vector<std::pair<std::string, std::string>>;
  const rows last3 = {{"MESSAGE", request_ids[2]}, {"MESSAGE", request_ids[3]}, {"MESSAGE", request_ids[4]}};
  EXPECT_EQ(records("?limit=3"), last3);
  EXPECT_EQ(records("?limit=1"), rows({{"MESSAGE", request_ids[4]}}));
  const auto all = records("?limit=1000");
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].first, "CONNECT");
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(all[i + 1], rows::value_type("MESSAGE", request_ids[i]));
  EXPECT_EQ(records("?limit=6"), all);
  EXPECT_EQ(records(""), all) << "the default limit is 100";

  for (const std::string query : {"?limit=0", "?limit=5000", "?limit=1001", "?limit=", "?limit=many"}) {
    const auto r = http_call(emulator.port(), "GET", "/@emulator/trace" + query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(r.body, R"({"message":"limit must be a whole number from 1 to 1000"})") << query;
  }
  client.close(1000, "");
  EXPECT_EQ(emulator.stop().status, 0);
}

// ---- GET /@emulator/feed ---------------------------------------------------------------------

// A reader of a response that never ends (server-sent events): raw_connection reads a body
// without Content-Length only until the peer closes, so the stream is read here as it arrives.
class event_stream {
 public:
  ~event_stream() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Connects to 127.0.0.1:PORT and sends REQUEST.
  bool open(std::uint16_t port, const std::string& request) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    return ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  }

  // Reads until DONE(all received so far) holds; false when TIMEOUT passes or the peer closes first.
  bool read_until(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = steady::now() + timeout;
    while (!done(received_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0 || (n < 0 && errno != EINTR)) return false;
      if (n > 0) received_.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }

  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  std::string received_;
};

// The events of a server-sent event stream: its blocks (which end with a blank line), without
// the comment lines (": …"); blocks of comments alone are left out. A last block without its
// blank line yet is left out too.
std::vector<std::string> events_of(const std::string& stream) {
  std::vector<std::string> events;
  std::size_t at = 0;
  for (std::size_t end; (end = stream.find("\n\n", at)) != std::string::npos; at = end + 2) {
    std::string event;
    for (const auto& line : lines_of(stream.substr(at, end - at))) {
      if (!line.empty() && line.front() == ':') continue;
      event += (event.empty() ? "" : "\n") + line;
    }
    if (!event.empty()) events.push_back(event);
  }
  return events;
}

TEST(FeedTest, EveryDecisionArrivesAsATraceEvent) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", echo_only_api());
  emulator_process emulator({"--config", config, "--port", "0", "--quiet"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();

  event_stream feed;
  ASSERT_TRUE(feed.open(emulator.port(), http_request("GET", "/@emulator/feed", "127.0.0.1")));
  // The head arrives once the feed is subscribed: nothing recorded after it is missed.
  ASSERT_TRUE(feed.read_until([](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; }))
      << feed.received();
  const std::string head = feed.received().substr(0, feed.received().find("\r\n\r\n") + 4);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Cache-Control: no-store\r\n"), std::string::npos) << head;
  // Comments (": …") may come at any time; events only when something is recorded.
  EXPECT_EQ(events_of(feed.received().substr(head.size())), std::vector<std::string>{}) << feed.received();

  ws_client client;
  ASSERT_TRUE(client.connect(emulator.options()).upgraded);
  ASSERT_TRUE(round_trip(client, R"({"action":"echo","n":1})", R"({"action":"echo","n":1})"));
  ASSERT_TRUE(client.send_text(R"({"action":"sendMessage"})"));
  const auto forbidden = client.read();
  ASSERT_TRUE(is_error_frame(forbidden, "Forbidden", ""));
  const auto [cid, rid] = ids_of_error_frame(forbidden);

  // Three events: the connect, the echo and the forbidden message, each "event: trace" with the
  // record as its data, exactly as GET /@emulator/trace keeps it.
  const auto count = [](const std::string& s) {
    std::size_t n = 0;
    for (std::size_t at = s.find("event: trace\n"); at != std::string::npos; at = s.find("event: trace\n", at + 1)) ++n;
    return n;
  };
  ASSERT_TRUE(feed.read_until([&](const std::string& s) { return count(s) == 3 && s.ends_with("\n\n"); }))
      << feed.received();
  const auto kept = emulator.trace();
  ASSERT_EQ(kept.size(), 3u);
  std::vector<std::string> expected;
  for (const auto& record : kept) expected.push_back("event: trace\ndata: " + record);
  EXPECT_EQ(events_of(feed.received().substr(head.size())), expected) << feed.received();
  const json_doc message(kept[2]);
  EXPECT_EQ(message.str("eventType"), "MESSAGE");
  EXPECT_EQ(message.str("connectionId"), cid);
  EXPECT_EQ(message.str("requestId"), rid);
  EXPECT_EQ(message.str("selection"), "sendMessage");
  EXPECT_EQ(message.str("why"), "no route");
  EXPECT_EQ(message.str("error"), "Forbidden");
  EXPECT_EQ(message.int64("status"), 403);

  // A disconnect arrives too.
  client.close(1000, "");
  ASSERT_TRUE(feed.read_until([&](const std::string& s) { return count(s) == 4 && s.ends_with("\n\n"); }))
      << feed.received();
  EXPECT_NE(feed.received().find(R"("eventType":"DISCONNECT","connectionId":")" + cid + "\""), std::string::npos);
  EXPECT_EQ(emulator.stop().status, 0);
}

TEST(FeedTest, NoAdminServesNoFeedAndNoTrace) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", echo_only_api());
  emulator_process emulator({"--config", config, "--port", "0", "--quiet", "--no-admin"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  EXPECT_EQ(http_call(emulator.port(), "GET", "/@emulator/feed").status, 404);
  EXPECT_EQ(http_call(emulator.port(), "GET", "/@emulator/trace").status, 404);
  EXPECT_EQ(http_call(emulator.port(), "GET", "/@emulator/connections").status, 404);
  EXPECT_EQ(emulator.stop().status, 0);
}

// /@emulator/health: the API, the open connections and, on glibc, the heap in use, a live figure:
// 64 open connections that each echoed a 30 KiB message hold more of it than none did.
TEST(HealthTest, CountsTheConnectionsAndTheHeapTheyHold) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", echo_only_api());
  emulator_process emulator({"--config", config, "--port", "0", "--quiet"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  const auto health = [&] {
    const auto r = http_call(emulator.port(), "GET", "/@emulator/health");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    return json_doc(r.body);
  };

  const json_doc before = health();
  EXPECT_EQ(before.str("status"), "ok");
  EXPECT_EQ(before.str("stage"), "dev");
  EXPECT_EQ(before.int64("connections"), 0);
#if defined(__GLIBC__)
  ASSERT_TRUE(before.int64("heapBytesInUse").has_value()) << before.text();
  const std::string big = R"({"action":"echo","pad":")" + std::string(30 * 1024, 'x') + R"("})";
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < 64; ++i) {
    clients.push_back(std::make_unique<ws_client>());
    ASSERT_TRUE(clients.back()->connect(emulator.options()).upgraded);
    ASSERT_TRUE(clients.back()->send_text(big));
    ASSERT_TRUE(clients.back()->read().data == big) << "client " << i;
  }
  const json_doc during = health();
  EXPECT_EQ(during.int64("connections"), 64);
  EXPECT_GT(during.int64("heapBytesInUse").value_or(0), *before.int64("heapBytesInUse") + 64 * 1024)
      << before.text() << "\n" << during.text();
  for (auto& c : clients) c->close(1000);
#else
  EXPECT_FALSE(before.has("heapBytesInUse"));
#endif
  EXPECT_EQ(emulator.stop().status, 0);
}

}  // namespace
}  // namespace apigw::e2e

namespace apigw::e2e {
namespace {

// limit is a query parameter of its own, all digits, 1 to 1000; any bad one is refused.
TEST(TraceLimitTest, LimitMustBeAWholeNumberOfItsOwn) {
  api_config api;
  api.add_route("echo", "echo", true);
  test_server server(api.json());
  for (const char* query : {"?limit=3abc", "?limit=", "?limit=-1", "?limit=2&limit=0"}) {
    SCOPED_TRACE(query);
    EXPECT_EQ(http_call(server.port(), "GET", std::string("/@emulator/trace") + query).status, 400);
  }
  for (const char* query : {"?xlimit=0", "?x=1&limit=5", "?a=b"}) {
    SCOPED_TRACE(query);
    EXPECT_EQ(http_call(server.port(), "GET", std::string("/@emulator/trace") + query).status, 200);
  }
}

}  // namespace
}  // namespace apigw::e2e

namespace apigw::e2e {
namespace {

// A handshake on another stage gets AWS's bare 404; the trace says which stage exists.
TEST(WrongStageTest, TheHandshakesRefusalSaysWhichStageExists) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", echo_only_api());
  emulator_process emulator({"--config", config, "--port", "0", "--quiet"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  for (const auto& [asked, hint] : {std::pair<std::string, std::string>{"Prod", ""},
                                    std::pair<std::string, std::string>{"Dev", " (stage names are case-sensitive)"}}) {
    ws_client client;
    const auto hs = client.connect(emulator.options(asked));
    EXPECT_EQ(hs.status, 404);
    EXPECT_EQ(hs.body, R"({"message":"Not Found"})");  // the wire stays AWS's
    const auto r = http_call(emulator.port(), "GET", "/@emulator/trace?limit=1");
    const json_doc doc(r.body);
    const auto* list = doc.at("trace");
    ASSERT_TRUE(list != nullptr && list->IsArray() && list->Size() == 1) << r.body;
    const json_doc record(to_json((*list)[0]));
    EXPECT_EQ(record.str("eventType"), std::optional<std::string>("CONNECT"));
    EXPECT_EQ(record.int64("status"), std::optional<std::int64_t>(404));
    EXPECT_EQ(record.str("error"), std::optional<std::string>("no stage \"" + asked + "\": this API's stage is \"dev\"; connect to /dev" + hint));
  }
}

// A request target need not start with '/': a handshake on "Prod", "?name=a" or "*" gets the same
// 404 and trace line, and the server goes on answering (an empty target once ended the process).
TEST(WrongStageTest, ATargetWithoutALeadingSlashIsRefusedLikeAnyOtherStage) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", echo_only_api());
  emulator_process emulator({"--config", config, "--port", "0", "--quiet"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  for (const auto& [target, asked] : {std::pair<std::string, std::string>{"Prod", "Prod"},
                                      std::pair<std::string, std::string>{"?name=a", ""},
                                      std::pair<std::string, std::string>{"*", "*"}}) {
    SCOPED_TRACE(target);
    raw_connection raw;
    ASSERT_TRUE(raw.connect("127.0.0.1", emulator.port()));
    ASSERT_TRUE(raw.send(upgrade_request(target, "127.0.0.1")));
    const auto answer = raw.read_http_response();
    EXPECT_EQ(answer.status, 404);
    EXPECT_EQ(answer.body, R"({"message":"Not Found"})");
    const auto r = http_call(emulator.port(), "GET", "/@emulator/trace?limit=1");
    ASSERT_EQ(r.status, 200) << "the server stopped answering";
    const json_doc doc(r.body);
    const auto* list = doc.at("trace");
    ASSERT_TRUE(list != nullptr && list->IsArray() && list->Size() == 1) << r.body;
    const json_doc record(to_json((*list)[0]));
    EXPECT_EQ(record.str("error"), std::optional<std::string>("no stage \"" + asked + "\": this API's stage is \"dev\"; connect to /dev"));
  }
}

}  // namespace
}  // namespace apigw::e2e

namespace apigw::e2e {
namespace {

// Every @connections call over HTTP is in the trace: the call, the connection, the status and
// AWS's error type, with the request id the answer carried.
TEST(ManagementTraceTest, EveryCallIsTracedWithItsStatus) {
  temp_dir dir;
  const auto config = write_file(dir, "api.json", echo_only_api());
  emulator_process emulator({"--config", config, "--port", "0"});
  ASSERT_NE(emulator.port(), 0) << emulator.startup_error();
  ws_client client;
  ASSERT_TRUE(client.connect(emulator.options()).upgraded);
  const auto records = [&] {
    const auto r = http_call(emulator.port(), "GET", "/@emulator/trace?limit=1000");
    std::vector<json_doc> out;
    const json_doc doc(r.body);
    for (const auto& v : doc.at("trace")->GetArray()) {
      json_doc record(to_json(v));
      if (record.str("eventType") == "MANAGEMENT") out.push_back(record);
    }
    return out;
  };
  const std::string id = json_doc(to_json(*json_doc(http_call(emulator.port(), "GET", "/@emulator/connections").body)
                                               .at("connections")->GetArray().Begin()))
                             .str("connectionId")
                             .value_or("");
  ASSERT_FALSE(id.empty());
  std::string encoded;
  for (char c : id) encoded += c == '=' ? std::string("%3D") : std::string(1, c);
  const auto posted = http_call(emulator.port(), "POST", "/dev/@connections/" + encoded, "hello");
  EXPECT_EQ(posted.status, 200);
  EXPECT_TRUE(client.read().is_text("hello"));
  EXPECT_EQ(http_call(emulator.port(), "GET", "/dev/@connections/nosuchid").status, 410);
  const auto traced = records();
  ASSERT_EQ(traced.size(), 2u);
  EXPECT_EQ(traced[0].str("call"), std::optional<std::string>("POST"));
  EXPECT_EQ(traced[0].str("connectionId"), std::optional<std::string>(id));
  EXPECT_EQ(traced[0].int64("status"), std::optional<std::int64_t>(200));
  EXPECT_EQ(traced[0].int64("bytes"), std::optional<std::int64_t>(5));
  EXPECT_EQ(traced[0].str("requestId"), posted.header("x-amzn-RequestId"));
  EXPECT_EQ(traced[1].str("call"), std::optional<std::string>("GET"));
  EXPECT_EQ(traced[1].str("connectionId"), std::optional<std::string>("nosuchid"));
  EXPECT_EQ(traced[1].int64("status"), std::optional<std::int64_t>(410));
  EXPECT_EQ(traced[1].str("error"), std::optional<std::string>("GoneException"));

  client.close(1000);
  const auto err = emulator.stop().err;
  EXPECT_TRUE(std::regex_search(err, std::regex(kTime + " MANAGEMENT " + regex_escape(id) +
                                                " req=[0-9a-f-]{36} call=POST status=200 bytes=5\n")))
      << err;
  EXPECT_TRUE(std::regex_search(err, std::regex(kTime + " MANAGEMENT nosuchid req=[0-9a-f-]{36} call=GET status=410 error=GoneException\n")))
      << err;
}

}  // namespace
}  // namespace apigw::e2e
