// The apigw-ws-emulator executable: the "listening on" line, graceful shutdown on SIGTERM/SIGINT
// (close 1001 "Going away", exit 0), exit status 2 with a message for bad input (the nearest
// option for a mistyped one), and --version.
#include "tests/e2e/e2e_common.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <tuple>
#include <unistd.h>

#include "config/config_loader.hpp"
#include "tests/support/child_process.hpp"

#ifndef APIGW_EMULATOR_BINARY
#error "APIGW_EMULATOR_BINARY must name the apigw-ws-emulator executable"
#endif

namespace apigw::e2e {
namespace {

namespace fs = std::filesystem;

// A config file in a fresh temporary directory, removed with the object.
class temp_config {
 public:
  explicit temp_config(std::string_view text, std::string name = "api.json") {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("apigw-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir_);
    path_ = dir_ / name;
    std::ofstream(path_) << text;
  }
  ~temp_config() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path dir_;
  fs::path path_;
};

std::string echo_api() {
  api_config api;
  api.add_route("echo", "echo", true);
  return api.json();
}

// The port of a "listening on ws://127.0.0.1:PORT/dev\n" line, or 0.
std::uint16_t listening_port(const std::string& line) {
  static const std::regex re(R"(^listening on ws://127\.0\.0\.1:([0-9]+)/dev\n$)");
  std::smatch m;
  if (!std::regex_match(line, m, re)) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

void expect_graceful_shutdown(int signo) {
  temp_config config(echo_api());
  child_process child(APIGW_EMULATOR_BINARY, {"--config", config.path(), "--host", "127.0.0.1", "--port", "0"});
  const std::string line = child.read_stdout_line(10s);
  const auto port = listening_port(line);
  ASSERT_NE(port, 0) << "stdout: \"" << line << "\", stderr: " << child.read_stderr_all(100ms);
  (void)child.read_stdout_line(10s);  // the HTTP endpoint's line

  ws_client client;
  connect_options o;
  o.port = port;
  o.target = "/dev";
  ASSERT_TRUE(client.connect(o).upgraded);
  ASSERT_TRUE(round_trip(client, R"({"action":"echo"})", R"({"action":"echo"})"));

  ASSERT_TRUE(child.signal(signo));
  const auto m = client.read();
  EXPECT_TRUE(m.is_close(1001, "Going away")) << m;
  EXPECT_EQ(child.wait(10s), 0);
  EXPECT_EQ(child.read_stdout_all(1s), "") << "more than two lines on stdout";
}

TEST(CliTest, PrintsTheListeningLineAndServesOnThatPort) {
  temp_config config(echo_api());
  child_process child(APIGW_EMULATOR_BINARY, {"--config", config.path(), "--port", "0"});
  const std::string line = child.read_stdout_line(10s);
  const auto port = listening_port(line);
  ASSERT_NE(port, 0) << "stdout: \"" << line << "\", stderr: " << child.read_stderr_all(100ms);
  const std::string http = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(child.read_stdout_line(10s),
            "DynamoDB and @connections: " + http + " (e.g. aws dynamodb list-tables --endpoint-url " + http + ")\n");

  ws_client client;
  connect_options o;
  o.port = port;
  o.target = "/dev";
  ASSERT_TRUE(client.connect(o).upgraded);
  EXPECT_TRUE(round_trip(client, R"({"action":"echo","x":1})", R"({"action":"echo","x":1})"));
  client.close(1000, "");
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(10s), 0);
}

TEST(CliTest, SigtermClosesConnectionsWithGoingAwayAndExitsZero) { expect_graceful_shutdown(SIGTERM); }

TEST(CliTest, SigintClosesConnectionsWithGoingAwayAndExitsZero) { expect_graceful_shutdown(SIGINT); }

// Runs the binary with ARGS and expects exit status 2, nothing on stdout and NEEDLE on stderr.
void expect_usage_error(const std::vector<std::string>& args, const std::string& needle) {
  child_process child(APIGW_EMULATOR_BINARY, args);
  const auto status = child.wait(10s);
  const std::string out = child.read_stdout_all(1s);
  const std::string err = child.read_stderr_all(1s);
  EXPECT_EQ(status, 2) << "stderr: " << err;
  EXPECT_EQ(out.find("listening"), std::string::npos) << out;
  EXPECT_NE(err.find(needle), std::string::npos) << "stderr does not name \"" << needle << "\": " << err;
}

TEST(CliTest, UnknownFlagExitsTwo) { expect_usage_error({"--bogus-flag"}, "--bogus-flag"); }

TEST(CliTest, MissingConfigFileExitsTwo) {
  const std::string path = (fs::temp_directory_path() / "apigw-e2e-no-such-file.json").string();
  expect_usage_error({"--config", path, "--port", "0"}, "apigw-e2e-no-such-file.json");
}

TEST(CliTest, MalformedConfigExitsTwoNamingTheFile) {
  temp_config config("{\"routeSelectionExpression\": \"$request.body.action\",\n  \"routes\": [\n", "broken.json");
  expect_usage_error({"--config", config.path(), "--port", "0"}, "broken.json");
}

struct ran {
  std::optional<int> status;
  std::string out;
  std::string err;
};

ran run_binary(const std::vector<std::string>& args) {
  child_process child(APIGW_EMULATOR_BINARY, args);
  ran r;
  r.out = child.read_stdout_all(10s);
  r.err = child.read_stderr_all(1s);
  r.status = child.wait(10s);
  return r;
}

TEST(CliTest, TrailingCommaInTheConfigIsNamedAtItsLineAndColumn) {
  temp_config config(
      "{\n"
      "  \"routeSelectionExpression\": \"$request.body.action\",\n"
      "  \"routes\": [\n"
      "    {\"routeKey\": \"$default\", \"integration\": \"echo\"},\n"
      "  ],\n"
      "  \"integrations\": {\"echo\": {\"handler\": \"echo\"}}\n"
      "}\n");
  const ran r = run_binary({"--config", config.path(), "--port", "0"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "apigw-ws-emulator: " + config.path() + ":4:52: trailing comma before ']' (JSON allows none)\n");
}

TEST(CliTest, VersionPrintsTheProjectsVersion) {
  std::ifstream cmake_lists(APIGW_SOURCE_DIR "/CMakeLists.txt");
  const std::string text((std::istreambuf_iterator<char>(cmake_lists)), std::istreambuf_iterator<char>());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(project\(apigw_ws_emulator VERSION ([0-9.]+))")));
  const ran r = run_binary({"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "apigw-ws-emulator " + m[1].str() + "\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliTest, MistypedOptionsGetTheNearestOneAndNoUsage) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--confg", "api.json"}, "unknown option --confg; did you mean --config?"},
      {{"-config", "api.json"}, "unknown option -config; did you mean --config?"},
      {{"--Port", "0"}, "unknown option --Port; did you mean --port?"},
      {{"--prot", "0"}, "unknown option --prot; did you mean --port?"},
      {{"--log-levle", "warn"}, "unknown option --log-levle; did you mean --log-level?"},
      {{"--no_admin"}, "unknown option --no_admin; did you mean --no-admin?"},
      {{"--verison"}, "unknown option --verison; did you mean --version?"},
      {{"--port=8080"}, "unknown option --port=8080; did you mean --port 8080?"},
      {{"--port", "0", "--qiuet"}, "unknown option --qiuet; did you mean --quiet?"},
      {{"stroe", "scan", "t"}, "unexpected argument \"stroe\"; did you mean store?"},
      {{"explain", "--mesage", "{}"}, "explain: unknown option --mesage; did you mean --message?"},
      {{"explain", "--jsno"}, "explain: unknown option --jsno; did you mean --json?"},
      {{"store", "scan", "t", "--stoer", "lab.db"}, "store: unknown option --stoer; did you mean --store?"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(args.front());
    const ran r = run_binary(args);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "apigw-ws-emulator: " + message + "\n");
  }
}

// Without a near option, the first usage line: it lists them all.
TEST(CliTest, UnknownOptionWithoutANearOneGetsTheOptionList) {
  const std::string options =
      "usage: apigw-ws-emulator [--config FILE] [--template FILE] [--parameter-overrides K=V ...] [--stage NAME] "
      "[--api LOGICAL_ID] [--host HOST] [--port PORT] [--store PATH] [--threads N] [--quiet] "
      "[--log-level L] [--log-format F] [--access-log FILE] [--no-admin] [--strict-credentials] [--version] [--help]\n";
  const ran flag = run_binary({"--bogus-flag"});
  EXPECT_EQ(flag.status, 2);
  EXPECT_EQ(flag.err, "apigw-ws-emulator: unknown option --bogus-flag\n" + options);
  const ran word = run_binary({"--port", "0", "store"});  // a subcommand only comes first
  EXPECT_EQ(word.status, 2);
  EXPECT_EQ(word.err, "apigw-ws-emulator: unexpected argument \"store\"\n" + options);
  const ran explain = run_binary({"explain", "--verbose"});
  EXPECT_EQ(explain.status, 2);
  EXPECT_EQ(explain.err,
            "apigw-ws-emulator: explain: unknown option --verbose\n"
            "usage: apigw-ws-emulator explain [--config FILE | --template FILE ...] [--message TEXT] [--json]\n");
}

// Every option that --help describes is in its first line, and the first line names no other.
TEST(CliTest, TheFirstUsageLineListsEveryOption) {
  const ran r = run_binary({"--help"});
  EXPECT_EQ(r.status, 0);
  const std::string first = r.out.substr(0, r.out.find('\n'));
  std::set<std::string> described;
  const std::regex option_line(R"(^  (--[a-z-]+))");
  std::istringstream lines(r.out.substr(r.out.find('\n') + 1));
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, option_line)) described.insert(m[1]);
  }
  std::set<std::string> listed;
  const std::regex listed_option(R"(\[(--[a-z-]+))");
  for (auto it = std::sregex_iterator(first.begin(), first.end(), listed_option); it != std::sregex_iterator(); ++it) {
    listed.insert((*it)[1]);
  }
  EXPECT_EQ(listed, described) << r.out;
  EXPECT_EQ(described.size(), 17u) << r.out;
}

// --template's options need it, and a config and a template cannot both name the API.
TEST(CliTest, TemplateOptionsNeedATemplateAndOneSourceNamesTheApi) {
  const std::string lab = std::string(APIGW_SOURCE_DIR) + "/lab/nodejs/template.yaml";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--config", "a.json", "--template", lab}, "--config and --template both name the API: give one"},
      {{"--stage", "Prod"}, "--parameter-overrides, --stage and --api are options of --template FILE"},
      {{"--template", lab, "--parameter-overrides"}, "--parameter-overrides needs NAME=VALUE"},
      {{"--template", lab, "--parameter-overrides", "=on"},
       "--parameter-overrides =on: write NAME=VALUE (e.g. TableName=chat)"},
      {{"--template", lab, "--parameter-overrides", "Authentication=maybe", "--port", "0"},
       lab + ":20:5: Parameters.Authentication: Parameter 'Authentication' must be one of AllowedValues (value: \"maybe\")"},
      {{"--template", lab, "--parameter-overrides", "TableName=chat1", "--port", "0"},
       lab + ":12:5: Parameters.TableName: Parameter TableName failed to satisfy constraint: Required. Can be "
             "characters and underscore only. No numbers or special characters allowed. (value: \"chat1\")"},
      {{"--template", lab, "--parameter-overrides", "Table=chat", "--port", "0"},
       lab + ": Parameters: [Table] do not exist in the template (it declares TableName, Authentication)"},
      {{"--template", lab, "--stage", "Dev", "--port", "0"},
       lab + ": --stage Dev: the API has no such stage (its stages: Prod)"},
      {{"template", "show"}, "template show: name the template, e.g. template show template.yaml"},
      {{"template", "show", lab, "--stgae", "x"}, "template show: unknown option --stgae; did you mean --stage?"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(args.front());
    const ran r = run_binary(args);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "apigw-ws-emulator: " + message);
  }
}

// template show: the configuration the template becomes, which --config accepts as it is.
TEST(CliTest, TemplateShowPrintsTheConfigurationThatConfigServes) {
  const std::string lab = std::string(APIGW_SOURCE_DIR) + "/lab/python/template.yaml";
  const ran shown = run_binary({"template", "show", lab, "--parameter-overrides", "Authentication=on"});
  ASSERT_EQ(shown.status, 0) << shown.err;
  EXPECT_NE(shown.out.find(R"("authorizerId": "LabAuthorizer")"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.err,
            "not emulated: OnConnectPermission (AWS::Lambda::Permission)\n"
            "not emulated: OnDisconnectPermission (AWS::Lambda::Permission)\n"
            "not emulated: SendMessagePermission (AWS::Lambda::Permission)\n");

  // explain reads a template as it reads the configuration it becomes (explain runs no functions:
  // MOCK integrations here).
  temp_config mock(
      "Resources:\n"
      "  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: m, ProtocolType: WEBSOCKET,\n"
      "        RouteSelectionExpression: $request.body.action}}\n"
      "  Ping: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: !Ref Api, RouteKey: ping,\n"
      "         Target: !Sub 'integrations/${Canned}'}}\n"
      "  Canned: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Api, IntegrationType: MOCK}}\n"
      "  Stage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Api, StageName: dev}}\n",
      "template.yaml");
  const ran translated = run_binary({"template", "show", mock.path()});
  ASSERT_EQ(translated.status, 0) << translated.err;
  temp_config config(translated.out);
  const ran explained = run_binary({"explain", "--config", config.path(), "--message", R"({"action":"ping"})"});
  const ran from_template = run_binary({"explain", "--template", mock.path(), "--message", R"({"action":"ping"})"});
  EXPECT_EQ(explained.status, 0) << explained.err;
  EXPECT_NE(explained.out.find("Canned"), std::string::npos) << explained.out;
  EXPECT_EQ(from_template.status, 0) << from_template.err;
  EXPECT_EQ(from_template.out, explained.out);
}

// A table, declared alike by the templates below: the APIs one emulator serves share it.
constexpr std::string_view kRoomsTable = R"(  Rooms:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
)";

// A template with two WebSocket APIs: each is served on a port of its own, and both ports serve
// the same tables; --api serves one.
const std::string kTwoApis = std::string(R"(Resources:
  Chat:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: chat, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  ChatPing:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Chat, RouteKey: ping, Target: !Sub 'integrations/${ChatMock}'}
  ChatMock: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Chat, IntegrationType: MOCK}}
  ChatStage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Chat, StageName: chat}}
  Admin:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: admin, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.op}
  AdminAny:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Admin, RouteKey: $default, Target: !Sub 'integrations/${AdminMock}'}
  AdminMock: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Admin, IntegrationType: MOCK}}
  AdminStage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Admin, StageName: admin}}
)") + std::string(kRoomsTable) + R"(Outputs:
  ChatUri: {Value: !Sub '${Chat.ApiEndpoint}/${ChatStage}'}
)";

TEST(CliTest, EveryWebSocketApiOfATemplateIsServedOnAPortOfItsOwnWithOneStore) {
  temp_config yaml(kTwoApis, "template.yaml");
  child_process child(APIGW_EMULATOR_BINARY, {"--template", yaml.path(), "--port", "0", "--quiet"});
  std::vector<std::string> lines;
  for (int i = 0; i < 6; ++i) lines.push_back(child.read_stdout_line(10s));
  std::smatch chat, admin;
  ASSERT_TRUE(std::regex_match(lines[0], chat, std::regex(R"(listening on ws://127\.0\.0\.1:(\d+)/chat \(Chat\)\n)")))
      << lines[0] << child.read_stderr_all(100ms);
  ASSERT_TRUE(std::regex_match(lines[2], admin, std::regex(R"(listening on ws://127\.0\.0\.1:(\d+)/admin \(Admin\)\n)")))
      << lines[2];
  const auto chat_port = static_cast<std::uint16_t>(std::stoi(chat[1]));
  const auto admin_port = static_cast<std::uint16_t>(std::stoi(admin[1]));
  EXPECT_NE(chat_port, admin_port);
  EXPECT_EQ(lines[4], "Outputs:\n");
  EXPECT_EQ(lines[5], "  ChatUri = wss://" + config::derive_api_id("chat") +
                          ".execute-api.us-east-1.amazonaws.com/chat  (here: ws://127.0.0.1:" + std::string(chat[1]) +
                          "/chat)\n");

  // Each port serves its own API: its stage, its routes.
  for (const auto& [port, stage, message] : {std::tuple{chat_port, "/chat", R"({"action":"ping"})"},
                                             std::tuple{admin_port, "/admin", R"({"op":"anything"})"}}) {
    ws_client client;
    connect_options o;
    o.port = port;
    o.target = stage;
    ASSERT_TRUE(client.connect(o).upgraded) << stage;
    ASSERT_TRUE(client.send_text(message));
    client.close(1000, "");
    connect_options other = o;
    other.target = std::string(stage) == "/chat" ? "/admin" : "/chat";
    ws_client wrong;
    EXPECT_EQ(wrong.connect(other).status, 404) << stage;
  }
  // One store: an item put through one port is read through the other.
  const std::string target = "X-Amz-Target: DynamoDB_20120810.";
  const std::string json = "Content-Type: application/x-amz-json-1.0\r\n";
  EXPECT_EQ(http_call(chat_port, "POST", "/", R"({"TableName":"Rooms","Item":{"id":{"S":"lobby"}}})",
                      json + target + "PutItem\r\n")
                .status,
            200);
  const auto got = http_call(admin_port, "POST", "/", R"({"TableName":"Rooms","Key":{"id":{"S":"lobby"}}})",
                             json + target + "GetItem\r\n");
  EXPECT_EQ(got.body, R"({"Item":{"id":{"S":"lobby"}}})");
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(10s), 0);

  // --api serves one; explain and template show need it when there are several.
  const ran one = run_binary({"template", "show", yaml.path(), "--api", "Admin"});
  EXPECT_EQ(one.status, 0) << one.err;
  EXPECT_NE(one.out.find(R"("name": "admin")"), std::string::npos) << one.out;
  EXPECT_EQ(one.err, "not emulated: Chat (AWS::ApiGatewayV2::Api: not served, --api Chat serves it)\n"
                     "not emulated: ChatMock (AWS::ApiGatewayV2::Integration of another API)\n"
                     "not emulated: ChatPing (AWS::ApiGatewayV2::Route of another API)\n"
                     "not emulated: ChatStage (AWS::ApiGatewayV2::Stage of another API)\n");
  const ran both = run_binary({"template", "show", yaml.path()});
  EXPECT_EQ(both.status, 2);
  EXPECT_EQ(both.err, "apigw-ws-emulator: " + yaml.path() +
                          ": the template has 2 WebSocket APIs (Chat, Admin): choose one with --api LOGICAL_ID (the "
                          "emulator's server serves each on a port of its own)\n");
}

// Several templates: all their APIs served, one store for their tables; an override goes to the
// templates that declare the parameter.
TEST(CliTest, SeveralTemplatesAreServedTogetherWithOneStore) {
  temp_config two(kTwoApis, "two.yaml");
  const std::string feed_yaml = std::string(R"(Parameters:
  StageName: {Type: String, Default: feed}
Resources:
  Feed:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: feed, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  FeedAny:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Feed, RouteKey: $default, Target: !Sub 'integrations/${FeedMock}'}
  FeedMock: {Type: AWS::ApiGatewayV2::Integration, Properties: {ApiId: !Ref Feed, IntegrationType: MOCK}}
  FeedStage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Feed, StageName: !Ref StageName}}
)") + std::string(kRoomsTable);
  temp_config feed(feed_yaml, "feed.yaml");
  child_process child(APIGW_EMULATOR_BINARY, {"--template", two.path(), "--template", feed.path(), "--port", "0",
                                              "--quiet", "--parameter-overrides", "StageName=news"});
  std::vector<std::string> listening;
  for (int i = 0; i < 6; ++i) {
    const std::string line = child.read_stdout_line(10s);
    if (line.starts_with("listening on ")) listening.push_back(line);
  }
  ASSERT_EQ(listening.size(), 3u) << child.read_stderr_all(100ms);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(listening[2], m, std::regex(R"(listening on ws://127\.0\.0\.1:(\d+)/news \((.*): Feed\)\n)")))
      << listening[2];
  EXPECT_EQ(m[2].str(), feed.path());
  const auto feed_port = static_cast<std::uint16_t>(std::stoi(m[1]));
  ASSERT_TRUE(std::regex_search(listening[0], m, std::regex(R"(:(\d+)/chat)"))) << listening[0];
  const auto chat_port = static_cast<std::uint16_t>(std::stoi(m[1]));
  const std::string headers = "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.";
  EXPECT_EQ(http_call(feed_port, "POST", "/", R"({"TableName":"Rooms","Item":{"id":{"S":"news"}}})",
                      headers + "PutItem\r\n").status,
            200);
  EXPECT_EQ(http_call(chat_port, "POST", "/", R"({"TableName":"Rooms","Key":{"id":{"S":"news"}}})",
                      headers + "GetItem\r\n").body,
            R"({"Item":{"id":{"S":"news"}}})");
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(10s), 0);

  const ran unknown = run_binary({"--template", two.path(), "--template", feed.path(), "--port", "0",
                                  "--parameter-overrides", "Stage=x"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(unknown.err, "apigw-ws-emulator: Parameters: [Stage] do not exist in any of the templates\n");
  std::string other = feed_yaml;
  other.replace(other.find("BillingMode: PAY_PER_REQUEST"), 28,
                "ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}");
  temp_config conflicting(other, "feed.yaml");
  const ran conflict = run_binary({"--template", two.path(), "--template", conflicting.path(), "--port", "0"});
  EXPECT_EQ(conflict.status, 2);
  EXPECT_EQ(conflict.err, "apigw-ws-emulator: " + conflicting.path() + ": tables[0]: table Rooms is declared "
                          "differently by " + two.path() + " (tables[0]); the APIs one emulator serves share one "
                          "store, where a table has one definition\n");
  const ran api = run_binary({"--template", two.path(), "--template", feed.path(), "--api", "Feed"});
  EXPECT_EQ(api.status, 2);
  EXPECT_EQ(api.err.substr(0, api.err.find('\n')),
            "apigw-ws-emulator: --stage and --api choose within one template; with several, each serves all its APIs");
}

// explain names the Lambda function a message would run, from a config or a template, without
// running it.
TEST(CliTest, ExplainNamesTheFunctionOfAConfigOrATemplate) {
  const std::string source = APIGW_SOURCE_DIR;
  for (const std::vector<std::string>& api : {std::vector<std::string>{"--config", source + "/config/lab-auth-python.json"},
                                              std::vector<std::string>{"--template", source + "/lab/python/template.yaml",
                                                                       "--parameter-overrides", "Authentication=on"}}) {
    SCOPED_TRACE(api[1]);
    std::vector<std::string> args = {"explain", "--message", R"({"action":"sendmessage","data":"hi"})"};
    args.insert(args.end(), api.begin(), api.end());
    const ran r = run_binary(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("integration SendMessageFunction (Lambda function, python3.11, handler app.lambda_handler in " +
                         source + "/lab/python/sendmessage)"),
              std::string::npos)
        << r.out;
  }
}

TEST(CliTest, UnknownHandlerExitsTwoNamingIt) {
  api_config api;
  api.add_route("x", "bad").add_integration("bad", builtin("no_such_handler"));
  temp_config config(api.json());
  expect_usage_error({"--config", config.path(), "--port", "0"}, "no_such_handler");
}

TEST(CliTest, MalformedSelectionExpressionExitsTwoNamingIt) {
  api_config api;
  api.expression = "${request.body.action";
  api.add_route("echo", "echo", true);
  temp_config config(api.json());
  expect_usage_error({"--config", config.path(), "--port", "0"}, "${request.body.action");
}

}  // namespace
}  // namespace apigw::e2e

namespace apigw::e2e {
namespace {

struct finished {
  int status;
  std::string out;
};

finished run_to_end(const std::vector<std::string>& args) {
  child_process child(APIGW_EMULATOR_BINARY, args);
  finished f;
  f.out = child.read_stdout_all(10s);
  f.status = child.wait(10s).value_or(-1);
  return f;
}

TEST(ExplainCliTest, MisspeltActionOnTheLabApiIsForbiddenWithExitOne) {
  const auto f = run_to_end({"explain", "--message", R"({"action":"sendMessage","data":"hi"})"});
  EXPECT_EQ(f.status, 1);
  EXPECT_EQ(f.out,
            "expression  $request.body.action\n"
            "message     {\"action\":\"sendMessage\",\"data\":\"hi\"}\n"
            "  $request.body.action  found \"sendMessage\"\n"
            "selection   \"sendMessage\"\n"
            "route       none: no route has the key \"sendMessage\" and there is no $default route; "
            "route keys are case-sensitive; did you mean \"sendmessage\"?\n"
            "client gets {\"message\": \"Forbidden\", \"connectionId\":\"…\", \"requestId\":\"…\"}\n");
}

TEST(ExplainCliTest, JsonOutputAndExitZeroWhenARouteTakesIt) {
  const auto f = run_to_end({"explain", "--config", APIGW_SOURCE_DIR "/config/demo.json", "--json", "--message",
                             R"({"action":"echo"})"});
  EXPECT_EQ(f.status, 0);
  EXPECT_EQ(f.out,
            R"({"expression":"$request.body.action","message":"{\"action\":\"echo\"}","messageIsJson":true,)"
            R"("parts":[{"part":"$request.body.action","kind":"path","found":true,"value":"echo"}],)"
            R"("selection":"echo","outcome":"exact match","routeKey":"echo","twoWay":true,"integration":"echo","handler":"echo"})"
            "\n");
}

TEST(ExplainCliTest, BadConfigExitsTwo) {
  temp_config config(R"({"routes": []})");
  EXPECT_EQ(run_to_end({"explain", "--config", config.path(), "--message", "{}"}).status, 2);
}

TEST(AdminEndpointsTest, RoutesExplainAndNoAdmin) {
  temp_config config(echo_api());
  for (const bool admin : {true, false}) {
    SCOPED_TRACE(admin ? "admin" : "--no-admin");
    std::vector<std::string> args = {"--config", config.path(), "--port", "0", "--quiet"};
    if (!admin) args.push_back("--no-admin");
    child_process child(APIGW_EMULATOR_BINARY, args);
    const std::uint16_t port = listening_port(child.read_stdout_line(10s));
    ASSERT_NE(port, 0);
    const auto routes = http_call(port, "GET", "/@emulator/routes");
    const auto explained = http_call(port, "POST", "/@emulator/explain", R"({"action":"nope"})");
    if (admin) {
      EXPECT_EQ(routes.status, 200);
      EXPECT_EQ(routes.body, R"({"routeSelectionExpression":"$request.body.action","routes":[)"
                             R"({"routeKey":"echo","integration":"echo","handler":"echo","twoWay":true}]})");
      EXPECT_EQ(explained.status, 200);
      EXPECT_NE(explained.body.find(R"("outcome":"no route")"), std::string::npos) << explained.body;
      EXPECT_EQ(http_call(port, "GET", "/@emulator/explain").status, 405);
    } else {
      EXPECT_EQ(routes.status, 404);
      EXPECT_EQ(explained.status, 404);
      EXPECT_EQ(http_call(port, "GET", "/@emulator/health").status, 404);
    }
    child.signal(SIGTERM);
    EXPECT_EQ(child.wait(10s), 0);
  }
}

}  // namespace
}  // namespace apigw::e2e
