// The @connections management API (docs/management-api.md) over HTTP on the emulator's own
// port and in-process from handlers: status codes, headers and bodies, both path forms, encoded
// ids, frame splitting of large data, the idle timer, DeleteConnection and $disconnect, Gone for
// unknown, closed, vanished and still-connecting connections.
#include <set>

#include "tests/e2e/e2e_common.hpp"

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <sstream>
#include <thread>

#include <rapidjson/document.h>

#include "tests/support/log_sink.hpp"

namespace apigw::e2e {
namespace {

using sys_clock = std::chrono::system_clock;

// AWS's GetConnection timestamp, "2022-01-25T18:50:04.673Z", as a time point; nullopt otherwise.
std::optional<sys_clock::time_point> parse_timestamp(const std::string& s) {
  static const std::regex re(R"(^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  return sys_clock::from_time_t(::timegm(&tm)) + std::chrono::milliseconds(std::stoi(m[7]));
}

sys_clock::time_point floor_ms(sys_clock::time_point t) {
  return std::chrono::floor<std::chrono::milliseconds>(t);
}

// The spellings of a management path an SDK or curl may send for connection ID on stage dev.
struct path_form {
  std::string name;
  std::string (*target)(const std::string& id);
};

const std::vector<path_form>& path_forms() {
  static const std::vector<path_form> forms = {
      {"/dev/@connections/ID", [](const std::string& id) { return "/dev/@connections/" + id; }},
      {"/@connections/ID", [](const std::string& id) { return "/@connections/" + id; }},
      {"/dev/%40connections/ID", [](const std::string& id) { return "/dev/%40connections/" + id; }},
      {"/%40connections/ID", [](const std::string& id) { return "/%40connections/" + id; }},
      {"/dev/@connections/ENCODED", [](const std::string& id) { return "/dev/@connections/" + percent_encode(id); }},
      {"/%40connections/ENCODED", [](const std::string& id) { return "/%40connections/" + percent_encode(id); }},
  };
  return forms;
}

::testing::AssertionResult is_gone(const http_response& r) {
  if (r.status != 410 || r.header("x-amzn-ErrorType") != "GoneException" || !r.body.empty() ||
      r.header("Content-Length").value_or("0") != "0") {
    return ::testing::AssertionFailure()
           << "expected 410 GoneException with an empty body, got " << r.status << " x-amzn-ErrorType="
           << r.header("x-amzn-ErrorType").value_or("<none>") << " body=\"" << r.body << "\"";
  }
  return ::testing::AssertionSuccess();
}

// Answers the message {"op": "post"|"get"|"delete", "id": ID, "data": TEXT, "size": N} by making
// that call in-process (data: TEXT, or N bytes of 'x') and replying (two-way) with
// "STATUS[ ERRORTYPE[ MESSAGE]]", or for a successful get
// "200 CONNECTED_AT LAST_ACTIVE_AT SOURCE_IP USER_AGENT|-".
class management_caller final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    rapidjson::Document m;
    const auto& body = event["body"];
    m.Parse(body.GetString(), body.GetStringLength());
    if (m.HasParseError() || !m.IsObject() || !m.HasMember("op") || !m.HasMember("id")) {
      throw std::runtime_error("bad test message");
    }
    const std::string op = m["op"].GetString();
    const std::string id = m["id"].GetString();
    std::string data = m.HasMember("data") ? m["data"].GetString() : "";
    if (m.HasMember("size")) data.assign(m["size"].GetUint(), 'x');
    apigw::management_result r;
    apigw::connection_description d;
    if (op == "post") {
      r = context.connections().post_to_connection(id, data);
    } else if (op == "get") {
      r = context.connections().get_connection(id, &d);
    } else {
      r = context.connections().delete_connection(id);
    }
    std::string out = std::to_string(r.status);
    if (!r.ok()) {
      out += " " + r.error_type;
      if (!r.message.empty()) out += " " + r.message;
    } else if (op == "get") {
      out += " " + d.connected_at + " " + d.last_active_at + " " + d.source_ip + " " + d.user_agent.value_or("-");
    }
    apigw::handler_result result;
    result.status_code = 200;
    result.body = out;
    return result;
  }
};

// A $connect handler that posts to, gets and deletes its own connection, as a Lambda might,
// and keeps the answers.
class self_caller final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    const std::string id = event["requestContext"]["connectionId"].GetString();
    apigw::connection_description d;
    auto post = context.connections().post_to_connection(id, "too early");
    auto get = context.connections().get_connection(id, &d);
    auto del = context.connections().delete_connection(id);
    std::lock_guard lock(mutex_);
    results_ = {std::move(post), std::move(get), std::move(del)};
    return {};
  }
  std::vector<apigw::management_result> results() const {
    std::lock_guard lock(mutex_);
    return results_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<apigw::management_result> results_;
};

// A $connect handler that holds the handshake until released, so that the connection stays
// "connecting" for as long as a test needs.
class connect_gate final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context&) override {
    std::unique_lock lock(mutex_);
    id_ = event["requestContext"]["connectionId"].GetString();
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::seconds(5), [this] { return released_; });
    return {};
  }
  std::string wait_for_id(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return !id_.empty(); });
    return id_;
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string id_;
  bool released_ = false;
};

class ManagementApiTest : public e2e_test {
 protected:
  // Stage dev; the recorder serves $connect (unless CONNECT_INTEGRATION names another) and
  // $disconnect; "echo" is two-way; "call" runs management_caller (two-way).
  void start_api(std::string limits = "", std::string connect_integration = "rec") {
    api_config api;
    api.limits = std::move(limits);
    api.add_route("$connect", connect_integration)
        .add_route("$disconnect", "rec")
        .add_route("echo", "echo", true)
        .add_route("call", "caller", true)
        .add_integration("rec", recorder_integration())
        .add_integration("caller", R"({"type":"builtin","handler":"caller"})")
        .add_integration("self", R"({"type":"builtin","handler":"self"})")
        .add_integration("gate", R"({"type":"builtin","handler":"gate"})");
    test_server_options options;
    options.log = &log_;  // keeps the invocations' START/END/REPORT lines off the test output
    start(api, {{"caller", caller_}, {"self", self_}, {"gate", gate_}}, options);
  }

  // The server refers to log_, which goes before the base class's server_.
  void TearDown() override { server_.reset(); }

  // A connected client and its connection id (from the recorder's CONNECT event), after one
  // echo: the server marks a connection open only after its 101 went out, so before any traffic
  // the management API may still answer 410 (see AConnectionIsReachableAsSoonAsItsClientIsUpgraded).
  std::pair<std::unique_ptr<ws_client>, std::string> connect(header_list headers = {}) {
    const auto before = recorder_->events("CONNECT").size();
    auto client = open("", std::move(headers));
    if (!client) return {nullptr, ""};
    EXPECT_TRUE(recorder_->wait_for(before + 1, 5s, "CONNECT"));
    EXPECT_TRUE(round_trip(*client, R"({"action":"echo"})", R"({"action":"echo"})"));
    return {std::move(client), last_connection_id()};
  }

  // Upgrades RAW on /dev and has one echo; the connection id ("" and a failure otherwise).
  std::string open_raw(raw_connection& raw) {
    const auto before = recorder_->events("CONNECT").size();
    const std::string echo = R"({"action":"echo"})";
    if (!raw.connect("127.0.0.1", server_->port()) ||
        !raw.send(upgrade_request("/dev", server_->host_port()))) {
      ADD_FAILURE() << "cannot connect";
      return "";
    }
    const auto r = raw.read_http_response();
    if (r.status != 101 || !recorder_->wait_for(before + 1, 5s, "CONNECT") ||
        !raw.send(masked_frame(ws_opcode::text, echo))) {
      ADD_FAILURE() << "upgrade failed: " << r.status;
      return "";
    }
    const auto f = raw.read_frame();
    if (!f || f->opcode != ws_opcode::text || f->payload != echo) {
      ADD_FAILURE() << "no echo";
      return "";
    }
    return last_connection_id();
  }

  http_response call(std::string_view method, std::string_view target, std::string_view body = "",
                     std::string_view headers = "") {
    return http_call(server_->port(), method, target, body, headers);
  }

  json_doc disconnect_of(const std::string& id) {
    auto e = recorder_->wait_for_disconnect(id, 5s);
    if (!e) {
      ADD_FAILURE() << "no $disconnect for " << id;
      return json_doc();
    }
    return *e;
  }

  // What management_caller replies to OP on ID, sent by CLIENT.
  static std::string in_process(ws_client& client, std::string_view op, std::string_view id,
                                std::string_view extra = "") {
    std::string m = R"({"action":"call","op":")" + std::string(op) + R"(","id":)" + json_string(id);
    if (!extra.empty()) m += "," + std::string(extra);
    m += "}";
    if (!client.send_text(m)) return "<send failed>";
    const auto reply = client.read();
    if (reply.type != ws_message::kind::text) {
      std::ostringstream os;
      os << "<" << reply << ">";
      return os.str();
    }
    return reply.data;
  }

  std::shared_ptr<management_caller> caller_ = std::make_shared<management_caller>();
  std::shared_ptr<self_caller> self_ = std::make_shared<self_caller>();
  std::shared_ptr<connect_gate> gate_ = std::make_shared<connect_gate>();
  log_sink log_;
};

// Every answer, success or error, carries AWS's request id (a UUID) and API Gateway's id.
TEST_F(ManagementApiTest, EveryAnswerCarriesTheRequestIds) {
  start_api();
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  const std::string path = "/" + server_->stage() + "/@connections/";
  const std::pair<std::string, std::string> calls[] = {
      {"GET", path + id}, {"POST", path + id}, {"GET", path + "nosuchconnection"},
      {"PUT", path + id}, {"GET", "/nosuchstage/@connections/" + id}, {"DELETE", path + id}};
  std::set<std::string> seen;
  for (const auto& [method, target] : calls) {
    SCOPED_TRACE(method + " " + target);
    const auto r = call(method, target, method == "POST" ? "hi" : "");
    EXPECT_NE(r.status, 0);
    const auto request_id = r.header("x-amzn-RequestId");
    ASSERT_TRUE(request_id.has_value());
    EXPECT_TRUE(std::regex_match(*request_id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << *request_id;
    EXPECT_TRUE(seen.insert(*request_id).second) << "a request id was used twice";
    const auto apigw_id = r.header("x-amz-apigw-id");
    ASSERT_TRUE(apigw_id.has_value());
    EXPECT_TRUE(std::regex_match(*apigw_id, std::regex("[A-Za-z0-9_-]{15}=")) ) << *apigw_id;
  }
}

TEST_F(ManagementApiTest, PostAnswers200WithEmptyBodyAndDeliversATextFrameOnEveryPathForm) {
  start_api();
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  ASSERT_NE(id.find('='), std::string::npos) << "the ENCODED forms need an id with '=': " << id;
  const std::vector<std::string> content_types = {"", "Content-Type: text/plain\r\n",
                                                  "Content-Type: application/json\r\n",
                                                  "Content-Type: application/octet-stream\r\n"};
  int n = 0;
  for (const auto& form : path_forms()) {
    for (const auto& content_type : content_types) {
      SCOPED_TRACE(form.name + " " + content_type);
      const std::string data = "message " + std::to_string(n++) + " {\"json\": true}";
      const auto r = call("POST", form.target(id), data, content_type);
      EXPECT_TRUE(r.complete);
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.body, "");
      EXPECT_EQ(r.header("Content-Length"), "0");
      EXPECT_EQ(r.header("x-amzn-ErrorType"), std::nullopt);
      const auto m = client->read();
      EXPECT_TRUE(m.is_text(data)) << m;
    }
  }
  // Empty data is a message too.
  EXPECT_EQ(call("POST", "/dev/@connections/" + id, "").status, 200);
  EXPECT_TRUE(client->read().is_text(""));
}

// A client that has its 101 is connected: a backend it tells about itself (through another
// connection, or any other channel) must be able to post to it at once, as on AWS.
TEST_F(ManagementApiTest, AConnectionIsReachableAsSoonAsItsClientIsUpgraded) {
  start_api();
  for (int i = 0; i < 200; ++i) {
    SCOPED_TRACE("connection " + std::to_string(i));
    const auto before = recorder_->events("CONNECT").size();
    auto client = open();
    ASSERT_TRUE(client);
    ASSERT_EQ(recorder_->events("CONNECT").size(), before + 1);  // $connect ran before the 101
    const std::string id = last_connection_id();
    const auto r = call("POST", "/dev/@connections/" + id, "welcome");
    ASSERT_EQ(r.status, 200) << "x-amzn-ErrorType: " << r.header("x-amzn-ErrorType").value_or("<none>");
    ASSERT_TRUE(client->read().is_text("welcome"));
  }
}

TEST_F(ManagementApiTest, GetAnswersTheConnectionAsJsonInAwsTimestampFormat) {
  start_api();
  const auto before = floor_ms(sys_clock::now());
  auto [with_agent, id] = connect({{"User-Agent", "e2e-agent/1.0 (test)"}});
  auto [without_agent, other] = connect();
  ASSERT_TRUE(with_agent && without_agent);
  const auto after = sys_clock::now();

  static const std::string ts = R"re("(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")re";
  const std::regex with_re(R"(^\{"connectedAt":)" + ts +
                           R"re(,"identity":\{"sourceIp":"127\.0\.0\.1","userAgent":"e2e-agent/1\.0 \(test\)"\},"lastActiveAt":)re" +
                           ts + R"(\}$)");
  const std::regex without_re(R"(^\{"connectedAt":)" + ts + R"(,"identity":\{"sourceIp":"127\.0\.0\.1"\},"lastActiveAt":)" +
                              ts + R"(\}$)");
  for (const auto& form : path_forms()) {
    SCOPED_TRACE(form.name);
    for (const auto& [target, re] : {std::pair{id, &with_re}, std::pair{other, &without_re}}) {
      const auto r = call("GET", form.target(target));
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.header("Content-Type"), "application/json");
      EXPECT_EQ(r.header("x-amzn-ErrorType"), std::nullopt);
      std::smatch m;
      ASSERT_TRUE(std::regex_match(r.body, m, *re)) << r.body;
      const auto connected_at = parse_timestamp(m[1]);
      const auto last_active_at = parse_timestamp(m[2]);
      ASSERT_TRUE(connected_at && last_active_at) << r.body;
      EXPECT_GE(*connected_at, before) << r.body;
      EXPECT_LE(*connected_at, after) << r.body;
      EXPECT_GE(*last_active_at, *connected_at) << r.body;
      EXPECT_LE(*last_active_at, sys_clock::now()) << r.body;
    }
  }
}

TEST_F(ManagementApiTest, LastActiveAtMovesWithTrafficInBothDirections) {
  start_api();
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  const auto last_active = [&] {
    const json_doc d(call("GET", "/dev/@connections/" + id).body);
    return parse_timestamp(d.str("lastActiveAt").value_or("")).value_or(sys_clock::time_point{});
  };
  const auto connected_at = [&] {
    const json_doc d(call("GET", "/dev/@connections/" + id).body);
    return d.str("connectedAt").value_or("?");
  };
  const std::string connected = connected_at();
  const auto t0 = last_active();
  ASSERT_NE(t0, sys_clock::time_point{});

  // Client to server: the message is read (and the time taken) before the echo goes back.
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(round_trip(*client, R"({"action":"echo"})", R"({"action":"echo"})"));
  const auto t1 = last_active();
  EXPECT_GE(t1 - t0, 30ms);

  // Server to client: the time is taken once the frame is written, which may follow its arrival.
  std::this_thread::sleep_for(30ms);
  ASSERT_EQ(call("POST", "/dev/@connections/" + id, "tick").status, 200);
  ASSERT_TRUE(client->read().is_text("tick"));
  auto t2 = last_active();
  for (const auto began = steady::now(); t2 - t1 < 30ms && elapsed_ms(began) < 2000;) {
    std::this_thread::sleep_for(5ms);
    t2 = last_active();
  }
  EXPECT_GE(t2 - t1, 30ms);
  EXPECT_EQ(connected_at(), connected);
}

TEST_F(ManagementApiTest, UnknownIdsAreGoneWithEmptyBody) {
  start_api();
  auto [bystander, bystander_id] = connect();
  ASSERT_TRUE(bystander);
  const std::vector<std::string> ids = {"AAAAAAAAAAAAAAA=", "nonsense", "Zm9v-_==", "~.x"};
  for (const std::string method : {"POST", "GET", "DELETE"}) {
    for (const auto& id : ids) {
      for (const auto& form : path_forms()) {
        SCOPED_TRACE(method + " " + form.name + " " + id);
        EXPECT_TRUE(is_gone(call(method, form.target(id), method == "POST" ? "data" : "")));
      }
    }
  }
  // Nothing reached anyone else.
  ASSERT_EQ(call("POST", "/dev/@connections/" + bystander_id, "still here").status, 200);
  EXPECT_TRUE(bystander->read().is_text("still here"));
}

struct bad_request_case {
  std::string method;
  std::string target;  // "ID" is replaced by a live connection id
  int status;
  std::string error_type;
  std::string body;
};

TEST_F(ManagementApiTest, BadRequestsGetAwsShapedErrors) {
  start_api();
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  const std::string expected_paths =
      R"({"message":"Expected /dev/@connections/{connectionId} or /@connections/{connectionId}"})";
  const std::vector<bad_request_case> cases = {
      {"PUT", "/dev/@connections/ID", 405, "MethodNotAllowedException",
       R"({"message":"Method PUT is not allowed; use POST, GET or DELETE"})"},
      {"PATCH", "/@connections/ID", 405, "MethodNotAllowedException",
       R"({"message":"Method PATCH is not allowed; use POST, GET or DELETE"})"},
      {"OPTIONS", "/%40connections/ID", 405, "MethodNotAllowedException",
       R"({"message":"Method OPTIONS is not allowed; use POST, GET or DELETE"})"},
      {"PUT", "/dev/@connections/nosuchid", 405, "MethodNotAllowedException",
       R"({"message":"Method PUT is not allowed; use POST, GET or DELETE"})"},
      {"POST", "/Prod/@connections/ID", 404, "NotFoundException",
       R"({"message":"Stage \"Prod\" does not exist; this API's stage is \"dev\""})"},
      {"GET", "/dev/@connections/", 404, "NotFoundException", expected_paths},
      {"GET", "/@connections", 404, "NotFoundException", expected_paths},
      {"DELETE", "/dev/@connections/ID/extra", 404, "NotFoundException", expected_paths},
      {"POST", "/@connections/%zz", 400, "BadRequestException",
       R"({"message":"The connection id is not validly percent-encoded"})"},
      {"GET", "/dev/@connections/abc%4", 400, "BadRequestException",
       R"({"message":"The connection id is not validly percent-encoded"})"},
  };
  for (const auto& c : cases) {
    std::string target = c.target;
    if (auto p = target.find("ID"); p != std::string::npos) target.replace(p, 2, id);
    SCOPED_TRACE(c.method + " " + target);
    const auto r = call(c.method, target, c.method == "POST" ? "data" : "");
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.header("x-amzn-ErrorType"), c.error_type);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.body, c.body);
    EXPECT_EQ(r.header("Allow"), c.status == 405 ? std::optional<std::string>("POST, GET, DELETE") : std::nullopt);
  }
  // The connection saw none of it and is still served.
  ASSERT_EQ(call("POST", "/dev/@connections/" + id, "after").status, 200);
  EXPECT_TRUE(client->read().is_text("after"));
}

TEST_F(ManagementApiTest, PostOverTheMessageLimitIs413AndDeliversNothing) {
  start_api();
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  const auto r = call("POST", "/dev/@connections/" + id, std::string(131073, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("x-amzn-ErrorType"), "PayloadTooLargeException");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.body, R"({"message":"Message too long. The maximum size is 131072 bytes."})");

  // Exactly the limit is accepted; it is the next message the client sees.
  const std::string at_limit(131072, 'y');
  EXPECT_EQ(call("POST", "/@connections/" + id, at_limit).status, 200);
  const auto m = client->read();
  EXPECT_EQ(m.type, ws_message::kind::text) << m;
  EXPECT_TRUE(m.data == at_limit) << "got " << m.data.size() << " bytes";
}

TEST_F(ManagementApiTest, LargePostArrivesIntactInFramesOfAtMost32KiB) {
  start_api();
  std::string data(100 * 1024, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);

  // A raw client sees the frames themselves.
  raw_connection raw;
  const std::string raw_id = open_raw(raw);
  ASSERT_FALSE(raw_id.empty());
  ASSERT_EQ(call("POST", "/dev/@connections/" + raw_id, data).status, 200);
  std::vector<ws_frame> frames;
  while (frames.empty() || !frames.back().fin) {
    auto f = raw.read_frame();
    ASSERT_TRUE(f) << "after " << frames.size() << " frames";
    frames.push_back(std::move(*f));
  }
  std::string joined;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    EXPECT_EQ(frames[i].opcode, i == 0 ? ws_opcode::text : ws_opcode::continuation);
    EXPECT_FALSE(frames[i].masked);
    EXPECT_LE(frames[i].payload.size(), 32768u);
    EXPECT_GT(frames[i].payload.size(), 0u);
    joined += frames[i].payload;
  }
  EXPECT_GE(frames.size(), 4u);  // 102400 bytes need at least four 32 KiB frames
  EXPECT_TRUE(joined == data) << "joined " << joined.size() << " bytes";

  // A WebSocket client sees one message.
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  ASSERT_EQ(call("POST", "/@connections/" + percent_encode(id), data).status, 200);
  const auto m = client->read();
  EXPECT_EQ(m.type, ws_message::kind::text) << m;
  EXPECT_TRUE(m.data == data) << "got " << m.data.size() << " bytes";
}

TEST_F(ManagementApiTest, PostResetsTheIdleTimer) {
  start_api(R"("idleTimeoutSeconds":0.4)");
  auto [kept, kept_id] = connect();
  auto [idle, idle_id] = connect();
  ASSERT_TRUE(kept && idle);
  const auto began = steady::now();
  int ticks = 0;
  while (elapsed_ms(began) < 1000) {
    const std::string tick = "tick " + std::to_string(ticks++);
    ASSERT_EQ(call("POST", "/dev/@connections/" + kept_id, tick).status, 200);
    const auto m = kept->read();
    ASSERT_TRUE(m.is_text(tick)) << m << " after " << elapsed_ms(began) << " ms";
    const auto pause = kept->read(100ms);  // nothing else is due, certainly not a close
    ASSERT_EQ(pause.type, ws_message::kind::timeout) << pause << " after " << elapsed_ms(began) << " ms";
  }
  // The untouched connection was closed at its idle limit, long before.
  const auto m = idle->read(1s);
  EXPECT_TRUE(m.is_close(1001, "Going away")) << m;
  EXPECT_EQ(disconnect_of(idle_id).int64("requestContext.disconnectStatusCode"), 1001);
  EXPECT_TRUE(is_gone(call("GET", "/dev/@connections/" + idle_id)));
  EXPECT_EQ(call("GET", "/dev/@connections/" + kept_id).status, 200);

  // Without posts the kept connection goes idle too.
  const auto quiet = steady::now();
  const auto closed = kept->read(3s);
  EXPECT_TRUE(closed.is_close(1001, "Going away")) << closed;
  EXPECT_GE(elapsed_ms(quiet), 250);
}

TEST_F(ManagementApiTest, DeleteAnswers204ClosesWith1000AndRunsDisconnect) {
  start_api();
  auto [bystander, bystander_id] = connect();
  ASSERT_TRUE(bystander);
  for (const auto& form : path_forms()) {
    SCOPED_TRACE(form.name);
    auto [client, id] = connect();
    ASSERT_TRUE(client);
    const auto r = call("DELETE", form.target(id));
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.header("x-amzn-ErrorType"), std::nullopt);
    // Gone at once, before the close handshake is over.
    EXPECT_TRUE(is_gone(call("GET", form.target(id))));
    EXPECT_TRUE(is_gone(call("POST", form.target(id), "late")));
    EXPECT_TRUE(is_gone(call("DELETE", form.target(id))));

    const auto m = client->read();
    EXPECT_TRUE(m.is_close(1000, "")) << m;
    const auto e = disconnect_of(id);
    EXPECT_EQ(e.int64("requestContext.disconnectStatusCode"), 1000) << e.text();
    EXPECT_EQ(e.str("requestContext.disconnectReason"), "Connection Closed Normally") << e.text();
    EXPECT_TRUE(is_gone(call("GET", form.target(id))));
    EXPECT_TRUE(is_gone(call("POST", form.target(id), "later")));
    EXPECT_TRUE(is_gone(call("DELETE", form.target(id))));
  }
  EXPECT_EQ(recorder_->events("DISCONNECT").size(), path_forms().size());  // exactly once each
  ASSERT_EQ(call("POST", "/dev/@connections/" + bystander_id, "unaffected").status, 200);
  EXPECT_TRUE(bystander->read().is_text("unaffected"));
}

TEST_F(ManagementApiTest, AVanishedClientIsGoneOnceTheServerNoticed) {
  start_api();
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  client->drop();
  EXPECT_EQ(disconnect_of(id).int64("requestContext.disconnectStatusCode"), 1006);
  EXPECT_TRUE(is_gone(call("POST", "/dev/@connections/" + id, "anyone?")));
  EXPECT_TRUE(is_gone(call("GET", "/dev/@connections/" + id)));
  EXPECT_TRUE(is_gone(call("DELETE", "/dev/@connections/" + id)));
}

// Once the server has sent its close frame (here: the idle timeout) nothing more can reach the
// client: a post must not answer 200 for data that is silently dropped.
TEST_F(ManagementApiTest, AConnectionTheServerIsClosingIsGone) {
  start_api(R"("idleTimeoutSeconds":0.3)");
  raw_connection raw;  // does not answer the server's close
  const std::string id = open_raw(raw);
  ASSERT_FALSE(id.empty());
  const auto close = raw.read_frame();
  ASSERT_TRUE(close);
  ASSERT_EQ(close->opcode, ws_opcode::close);
  EXPECT_EQ(close->close_code(), 1001);
  EXPECT_TRUE(is_gone(call("POST", "/dev/@connections/" + id, "into the void")));
  EXPECT_TRUE(is_gone(call("GET", "/dev/@connections/" + id)));
  EXPECT_TRUE(is_gone(call("DELETE", "/dev/@connections/" + id)));
}

TEST_F(ManagementApiTest, AClientThatVanishesWithDataQueuedBecomesGoneAndHurtsNoOne) {
  start_api();
  auto [bystander, bystander_id] = connect();
  ASSERT_TRUE(bystander);
  raw_connection raw;  // reads nothing after its first echo
  const std::string id = open_raw(raw);
  ASSERT_FALSE(id.empty());
  const std::string chunk(128 * 1024, 'q');
  for (int i = 0; i < 16; ++i) ASSERT_EQ(call("POST", "/dev/@connections/" + id, chunk).status, 200);
  raw.close();  // unread data: the kernel resets the connection
  const auto e = disconnect_of(id);
  EXPECT_EQ(e.int64("requestContext.disconnectStatusCode"), 1006) << e.text();
  EXPECT_TRUE(is_gone(call("POST", "/dev/@connections/" + id, "more")));
  ASSERT_EQ(call("POST", "/dev/@connections/" + bystander_id, "fine").status, 200);
  EXPECT_TRUE(bystander->read().is_text("fine"));
}

TEST_F(ManagementApiTest, AStillConnectingConnectionIsGone) {
  start_api("", "gate");
  auto client = std::make_unique<ws_client>();
  handshake_result hs;
  std::thread connecting([&] { hs = client->connect(server_->options()); });
  const std::string id = gate_->wait_for_id(5s);
  if (id.empty()) {
    gate_->release();
    connecting.join();
    FAIL() << "$connect never ran";
  }
  for (const auto& form : path_forms()) {
    SCOPED_TRACE(form.name);
    EXPECT_TRUE(is_gone(call("POST", form.target(id), "too early")));
    EXPECT_TRUE(is_gone(call("GET", form.target(id))));
    EXPECT_TRUE(is_gone(call("DELETE", form.target(id))));
  }
  gate_->release();
  connecting.join();
  ASSERT_TRUE(hs.upgraded) << hs.status << " " << hs.error;
  // Once in use (see AConnectionIsReachableAsSoonAsItsClientIsUpgraded) it is reachable.
  ASSERT_TRUE(round_trip(*client, R"({"action":"echo"})", R"({"action":"echo"})"));
  ASSERT_EQ(call("POST", "/dev/@connections/" + id, "now").status, 200);
  EXPECT_TRUE(client->read().is_text("now"));
}

TEST_F(ManagementApiTest, AHandlerCallingItsOwnConnectionFromConnectGetsGone) {
  start_api("", "self");
  auto client = open();
  ASSERT_TRUE(client);
  const auto results = self_->results();
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) {
    EXPECT_EQ(r.status, 410);
    EXPECT_EQ(r.error_type, "GoneException");
    EXPECT_TRUE(r.gone());
  }
  // Neither the early post nor the delete had an effect: the echo is the first frame.
  EXPECT_TRUE(round_trip(*client, R"({"action":"echo"})", R"({"action":"echo"})"));
}

TEST_F(ManagementApiTest, InProcessCallsHaveTheSameOutcomesAsHttp) {
  start_api();
  auto [caller, caller_id] = connect();
  auto [target, id] = connect({{"User-Agent", "target-agent"}});
  ASSERT_TRUE(caller && target);

  const auto got = in_process(*caller, "get", id);
  static const std::string ts = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)";
  EXPECT_TRUE(std::regex_match(got, std::regex("^200 " + ts + " " + ts + R"( 127\.0\.0\.1 target-agent$)"))) << got;
  const auto http_got = json_doc(call("GET", "/dev/@connections/" + id).body);
  EXPECT_EQ(got.substr(4, 24), http_got.str("connectedAt").value_or("?"));

  EXPECT_EQ(in_process(*caller, "post", id, R"("data":"from a handler")"), "200");
  EXPECT_TRUE(target->read().is_text("from a handler"));

  EXPECT_EQ(in_process(*caller, "post", id, R"("size":131073)"),
            "413 PayloadTooLargeException Message too long. The maximum size is 131072 bytes.");
  EXPECT_EQ(in_process(*caller, "post", "AAAAAAAAAAAAAAA=", R"("data":"x")"), "410 GoneException");
  EXPECT_EQ(in_process(*caller, "get", "AAAAAAAAAAAAAAA="), "410 GoneException");
  EXPECT_EQ(in_process(*caller, "delete", "AAAAAAAAAAAAAAA="), "410 GoneException");

  // Posting to its own connection from a message route works; the post goes out before the reply.
  ASSERT_TRUE(caller->send_text(R"({"action":"call","op":"post","id":")" + caller_id + R"(","data":"to myself"})"));
  EXPECT_TRUE(caller->read().is_text("to myself"));
  EXPECT_TRUE(caller->read().is_text("200"));

  EXPECT_EQ(in_process(*caller, "delete", id), "204");
  const auto m = target->read();
  EXPECT_TRUE(m.is_close(1000, "")) << m;
  const auto e = disconnect_of(id);
  EXPECT_EQ(e.int64("requestContext.disconnectStatusCode"), 1000) << e.text();
  EXPECT_EQ(e.str("requestContext.disconnectReason"), "Connection Closed Normally") << e.text();
  EXPECT_EQ(in_process(*caller, "post", id, R"("data":"late")"), "410 GoneException");
  EXPECT_EQ(in_process(*caller, "get", id), "410 GoneException");
  EXPECT_EQ(in_process(*caller, "delete", id), "410 GoneException");
  EXPECT_TRUE(is_gone(call("GET", "/dev/@connections/" + id)));
}

}  // namespace
}  // namespace apigw::e2e
