// Lambda functions run from their code ("type": "lambda"): real Node.js and Python processes
// through the Runtime API, against an in-process server over loopback with a real client. Each
// test writes its function's code into a folder of its own.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/log_sink.hpp"
#include "tests/support/raw_connection.hpp"
#include "tests/support/test_server.hpp"
#include "tests/support/ws_client.hpp"

namespace apigw::functions_test {
namespace {

using namespace apigw::test_support;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A folder of function code that goes away with the test.
class code_dir {
 public:
  code_dir() {
    char tmpl[] = "/tmp/apigw-functions-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~code_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  // Writes FILE (relative) with TEXT; returns its path.
  std::string write(const std::string& file, const std::string& text, bool executable = false) const {
    const fs::path p = path_ / file;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    if (executable) fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
    return p.string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

// An API whose route "run" (two-way) and $default run FUNCTION, a "lambda" integration given as
// JSON; $connect is a mock unless CONNECT names an integration JSON too.
std::string api_with(const std::string& function, const std::string& connect = "") {
  std::string api = R"({"routeSelectionExpression":"$request.body.action","routes":[)";
  api += connect.empty() ? R"({"routeKey":"$connect","integration":"Accept"},)"
                         : R"({"routeKey":"$connect","integration":"ConnectFn"},)";
  api += R"({"routeKey":"run","integration":"Fn","routeResponseSelectionExpression":"$default"}],)";
  api += R"("integrations":{"Accept":{"type":"builtin","handler":"mock","options":{"statusCode":200}},)";
  if (!connect.empty()) api += R"("ConnectFn":)" + connect + ",";
  api += R"("Fn":)" + function + "}}";
  return api;
}

std::string lambda(const std::string& runtime, const std::string& handler, const std::string& dir,
                   const std::string& extra = "") {
  return R"({"type":"lambda","runtime":")" + runtime + R"(","handler":")" + handler + R"(","codeUri":")" + dir +
         "\"" + extra + "}";
}

// A connected client of SERVER.
ws_client connected(test_server& server) {
  ws_client c(10s);
  auto hs = c.connect(server.options());
  EXPECT_TRUE(hs.upgraded) << hs.error;
  return c;
}

std::string reply(ws_client& c, const std::string& message, std::chrono::milliseconds timeout = 10s) {
  EXPECT_TRUE(c.send_text(message));
  auto f = c.read(timeout);
  EXPECT_EQ(f.type, apigw::frame::kind::text) << f;
  return f.data;
}

bool is_internal_error(const std::string& frame) {
  return frame.find("\"message\": \"Internal server error\"") != std::string::npos;
}

constexpr const char* kNodeCounter = R"(
let count = 0;
exports.handler = async (event, context) => {
  count++;
  console.log("message", event.body);
  const body = JSON.parse(event.body);
  if (body.fail) throw new TypeError("it failed: " + body.fail);
  if (body.sleep) await new Promise((r) => setTimeout(r, body.sleep));
  if (body.exit) process.exit(body.exit);
  return {
    statusCode: 200,
    body: JSON.stringify({ count, pid: process.pid, id: context.awsRequestId, route: event.requestContext.routeKey,
                           remaining: context.getRemainingTimeInMillis(), fn: context.functionName,
                           region: process.env.AWS_REGION, table: process.env.TABLE_NAME }),
  };
};
)";

TEST(NodeFunction, RunsWarmKeepsModuleStateAndLogsAsLambda) {
  code_dir code;
  code.write("app.js", kNodeCounter);
  log_sink log;
  test_server server(api_with(lambda("nodejs20.x", "app.handler", code.path(),
                                     R"(,"environment":{"TABLE_NAME":"chat"},"timeout":5)")),
                     {}, test_server_options{2, "", &log});
  auto c = connected(server);
  json_doc first(reply(c, R"({"action":"run"})"));
  json_doc second(reply(c, R"({"action":"run"})"));
  EXPECT_EQ(first.int64("count").value_or(-1), 1);
  EXPECT_EQ(second.int64("count").value_or(-1), 2);  // the same warm process
  EXPECT_EQ(first.int64("pid").value_or(-1), second.int64("pid").value_or(-1));
  EXPECT_EQ(first.str("route").value_or(""), "run");
  EXPECT_EQ(first.str("fn").value_or(""), "Fn");
  EXPECT_EQ(first.str("region").value_or(""), "us-east-1");
  EXPECT_EQ(first.str("table").value_or(""), "chat");
  EXPECT_GT(first.int64("remaining").value_or(-1), 3000);
  EXPECT_LE(first.int64("remaining").value_or(-1), 5000);

  const std::string id = first.str("id").value_or("");
  ASSERT_TRUE(log.wait_for(2, 5s, "Fn", "", "REPORT RequestId:")) << log.dump();
  // START, the console line in Lambda's format, END and REPORT, in that order.
  std::vector<std::string> mine;
  for (const auto& l : log.lines()) {
    if (l.function == "Fn" && l.message.find(id) != std::string::npos) mine.push_back(l.message);
  }
  ASSERT_EQ(mine.size(), 4u) << log.dump();
  EXPECT_EQ(mine[0], "START RequestId: " + id + " Version: $LATEST");
  EXPECT_TRUE(std::regex_match(mine[1], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t)" + std::string("[^\t]+") +
                                                   R"(\tINFO\tmessage \{"action":"run"\})")))
      << mine[1];
  EXPECT_NE(mine[1].find("\t" + id + "\t"), std::string::npos);
  EXPECT_EQ(mine[2], "END RequestId: " + id);
  EXPECT_TRUE(std::regex_match(mine[3], std::regex("REPORT RequestId: " + std::regex_replace(id, std::regex(R"([-=_])"), R"(\$&)") +
                                                   R"(\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms)")))
      << mine[3];
  // The warm invocation has no Init Duration.
  const auto reports = log.find("Fn", "", "REPORT RequestId: " + second.str("id").value_or(""));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].message.find("Init Duration"), std::string::npos) << reports[0].message;
}

TEST(NodeFunction, ErrorTimeoutAndCrashFailOnlyTheirInvocation) {
  code_dir code;
  code.write("app.js", kNodeCounter);
  log_sink log;
  test_server server(api_with(lambda("nodejs20.x", "app.handler", code.path(), R"(,"timeout":0.5)")), {},
                     test_server_options{2, "", &log});
  auto c = connected(server);
  EXPECT_EQ(json_doc(reply(c, R"({"action":"run"})")).int64("count").value_or(-1), 1);

  // A thrown error: the client gets AWS's frame, the log the runtime's Invoke Error line.
  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"run","fail":"x"})")));
  EXPECT_TRUE(log.wait_for(1, 5s, "Fn", "", "ERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"it failed: x\"")) << log.dump();
  EXPECT_EQ(json_doc(reply(c, R"({"action":"run"})")).int64("count").value_or(-1), 3);  // still warm

  // A timeout: killed and replaced; the next invocation starts cold.
  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"run","sleep":3000})")));
  EXPECT_TRUE(log.wait_for(1, 5s, "Fn", "", "Task timed out after 0.50 seconds")) << log.dump();
  EXPECT_EQ(json_doc(reply(c, R"({"action":"run"})")).int64("count").value_or(-1), 1);

  // A crash: that invocation fails with Runtime.ExitError, the next one runs.
  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"run","exit":3})")));
  EXPECT_TRUE(log.wait_for(1, 5s, "Fn", "", "Error: Runtime exited with error: exit status 3")) << log.dump();
  EXPECT_EQ(json_doc(reply(c, R"({"action":"run"})")).int64("count").value_or(-1), 1);
}

TEST(NodeFunction, LoadsEsModulesByExtensionAndPackageType) {
  code_dir code;
  code.write("esm/index.mjs", "export const handler = async (e) => ({ statusCode: 200, body: 'mjs ' + typeof require });\n");
  code.write("typed/package.json", R"({"type":"module"})");
  code.write("typed/app.js", "export async function handler(e) { return { body: 'module ' + typeof require }; }\n");
  code.write("cb/app.js", "exports.handler = (e, ctx, callback) => { setTimeout(() => callback(null, { body: 'callback' }), 10); };\n");
  const std::string api =
      R"({"routeSelectionExpression":"$request.body.action","routes":[)"
      R"({"routeKey":"a","integration":"A","routeResponseSelectionExpression":"$default"},)"
      R"({"routeKey":"b","integration":"B","routeResponseSelectionExpression":"$default"},)"
      R"({"routeKey":"c","integration":"C","routeResponseSelectionExpression":"$default"}],"integrations":{)"
      R"("A":)" + lambda("nodejs20.x", "index.handler", code.path() + "/esm") + "," +
      R"("B":)" + lambda("nodejs20.x", "app.handler", code.path() + "/typed") + "," +
      R"("C":)" + lambda("nodejs20.x", "app.handler", code.path() + "/cb") + "}}";
  test_server server(api);
  auto c = connected(server);
  EXPECT_EQ(reply(c, R"({"action":"a"})"), "mjs undefined");
  EXPECT_EQ(reply(c, R"({"action":"b"})"), "module undefined");
  EXPECT_EQ(reply(c, R"({"action":"c"})"), "callback");
}

TEST(NodeFunction, InitErrorsAreReportedAsLambdaReportsThem) {
  code_dir code;
  code.write("missing-export/app.js", "exports.other = async () => ({});\n");
  code.write("syntax/app.js", "exports.handler = async () => { return {;\n");
  code.write("empty/README", "no code here\n");
  const std::string api =
      R"({"routeSelectionExpression":"$request.body.action","routes":[)"
      R"({"routeKey":"a","integration":"A","routeResponseSelectionExpression":"$default"},)"
      R"({"routeKey":"b","integration":"B","routeResponseSelectionExpression":"$default"},)"
      R"({"routeKey":"c","integration":"C","routeResponseSelectionExpression":"$default"}],"integrations":{)"
      R"("A":)" + lambda("nodejs20.x", "app.handler", code.path() + "/missing-export") + "," +
      R"("B":)" + lambda("nodejs20.x", "app.handler", code.path() + "/syntax") + "," +
      R"("C":)" + lambda("nodejs20.x", "app.handler", code.path() + "/empty") + "}}";
  log_sink log;
  test_server server(api, {}, test_server_options{2, "", &log});
  auto c = connected(server);
  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"a"})")));
  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"b"})")));
  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"c"})")));
  EXPECT_TRUE(log.wait_for(1, 5s, "A", "", "Runtime.HandlerNotFound")) << log.dump();
  EXPECT_TRUE(log.wait_for(1, 5s, "B", "", "Runtime.UserCodeSyntaxError")) << log.dump();
  EXPECT_TRUE(log.wait_for(1, 5s, "C", "", "Runtime.ImportModuleError")) << log.dump();
  EXPECT_TRUE(log.wait_for(1, 5s, "C", "", "INIT_REPORT Init Duration: ")) << log.dump();
}

TEST(PythonFunction, RunsWarmWithContextAndPrintLines) {
  code_dir code;
  code.write("lambda_function.py", R"(import json, os
count = 0
def lambda_handler(event, context):
    global count
    count += 1
    print("message", event["body"])
    if "fail" in event["body"]:
        raise ValueError("bad value")
    return {"statusCode": 200, "body": json.dumps({"count": count, "pid": os.getpid(),
            "id": context.aws_request_id, "remaining": context.get_remaining_time_in_millis(),
            "memory": context.memory_limit_in_mb, "tz": os.environ.get("TZ")})}
)");
  log_sink log;
  test_server server(api_with(lambda("python3.11", "lambda_function.lambda_handler", code.path(),
                                     R"(,"memorySize":256)")),
                     {}, test_server_options{2, "", &log});
  auto c = connected(server);
  json_doc first(reply(c, R"({"action":"run"})"));
  json_doc second(reply(c, R"({"action":"run"})"));
  EXPECT_EQ(first.int64("count").value_or(-1), 1);
  EXPECT_EQ(second.int64("count").value_or(-1), 2);
  EXPECT_EQ(first.int64("pid").value_or(-1), second.int64("pid").value_or(-1));
  EXPECT_EQ(first.str("tz").value_or(""), "UTC");
  EXPECT_GT(first.int64("remaining").value_or(-1), 1000);
  EXPECT_TRUE(log.wait_for(1, 5s, "Fn", "", "message {\"action\":\"run\"}")) << log.dump();
  EXPECT_TRUE(log.wait_for(1, 5s, "Fn", "", "Memory Size: 256 MB")) << log.dump();

  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"run","fail":1})")));
  EXPECT_TRUE(log.wait_for(1, 5s, "Fn", "", "[ERROR] ValueError: bad value")) << log.dump();
}

TEST(ProvidedFunction, RunsAnyExecutableBootstrapThroughTheRuntimeApi) {
  code_dir code;
  fs::copy_file(APIGW_PROVIDED_BOOTSTRAP, code.path() + "/bootstrap");
  log_sink log;
  test_server server(api_with(lambda("provided.al2023", "ignored", code.path())), {}, test_server_options{2, "", &log});
  auto c = connected(server);
  json_doc event(reply(c, R"({"action":"run"})"));  // the bootstrap answers with the event it got
  EXPECT_EQ(event.str("body").value_or(""), R"({"action":"run"})");
  EXPECT_EQ(event.str("requestContext.routeKey").value_or(""), "run");
}

TEST(FunctionPool, ConcurrentInvocationsStartProcessesUpToTheLimitAndQueueBeyond) {
  code_dir code;
  code.write("app.js", kNodeCounter);
  test_server server(api_with(lambda("nodejs20.x", "app.handler", code.path(), R"(,"reservedConcurrency":2)")),
                     {}, test_server_options{4, "", nullptr});
  std::vector<ws_client> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(connected(server));
  for (auto& c : clients) ASSERT_TRUE(c.send_text(R"({"action":"run","sleep":300})"));
  std::set<long long> pids;
  for (auto& c : clients) {
    auto f = c.read(10s);
    ASSERT_EQ(f.type, apigw::frame::kind::text) << f;
    pids.insert(json_doc(f.data).int64("pid").value_or(-1));
  }
  EXPECT_EQ(pids.size(), 2u);  // five invocations, two processes: the others waited their turn
}

// Keeps the thread that writes a crashed invocation's REPORT line busy for a while after it.
class slow_crash_report final : public apigw::invocation_log {
 public:
  explicit slow_crash_report(log_sink& inner) : inner_(inner) {}
  void write(std::string_view function, std::string_view request_id, std::string_view level,
             std::string_view message) override {
    inner_.write(function, request_id, level, message);
    if (message.rfind("REPORT", 0) == 0 && message.find("Runtime.ExitError") != std::string_view::npos) {
      std::this_thread::sleep_for(300ms);
    }
  }

 private:
  log_sink& inner_;
};

// The process that replaces a crashed one, for an invocation that waited its turn meanwhile,
// is not tied to whichever thread noticed the crash: the kernel kills a child when the thread
// that started it ends (here the crashed process's reader, kept busy a while so that the new
// process is running when that thread ends).
TEST(FunctionPool, AProcessStartedAfterACrashServesTheInvocationsThatWaited) {
  code_dir code;
  code.write("app.js", kNodeCounter);
  log_sink log;
  slow_crash_report slow(log);
  test_server server(api_with(lambda("nodejs20.x", "app.handler", code.path(), R"(,"reservedConcurrency":1)")),
                     {}, test_server_options{4, "", &slow});
  auto crashing = connected(server);
  auto waiting = connected(server);
  const long long first_pid = json_doc(reply(waiting, R"({"action":"run"})")).int64("pid").value_or(-1);
  ASSERT_TRUE(crashing.send_text(R"({"action":"run","sleep":300,"exit":3})"));
  std::this_thread::sleep_for(100ms);  // the crashing one runs; this one waits for the only process
  ASSERT_TRUE(waiting.send_text(R"({"action":"run"})"));
  auto crashed = crashing.read(10s);
  EXPECT_TRUE(is_internal_error(crashed.data)) << crashed;
  auto served = waiting.read(10s);
  ASSERT_EQ(served.type, apigw::frame::kind::text) << served << log.dump();
  const auto body = json_doc(served.data);
  EXPECT_EQ(body.int64("count").value_or(-1), 1) << served.data << log.dump();  // a new process
  EXPECT_NE(body.int64("pid").value_or(-1), first_pid);
  EXPECT_EQ(json_doc(reply(waiting, R"({"action":"run"})")).int64("count").value_or(-1), 2);  // and it stays
}

TEST(FunctionPool, ReplacesWarmProcessesWhenTheCodeChanges) {
  code_dir code;
  code.write("app.js", "exports.handler = async () => ({ body: 'first ' + process.pid });\n");
  test_server server(api_with(lambda("nodejs20.x", "app.handler", code.path())));
  auto c = connected(server);
  const std::string before = reply(c, R"({"action":"run"})");
  EXPECT_EQ(before.rfind("first ", 0), 0u) << before;
  std::this_thread::sleep_for(20ms);  // a distinct modification time
  code.write("app.js", "exports.handler = async () => ({ body: 'second ' + process.pid });\n");
  const std::string after = reply(c, R"({"action":"run"})");
  EXPECT_EQ(after.rfind("second ", 0), 0u) << after;  // the same connection, the new code
  EXPECT_NE(before.substr(6), after.substr(7));        // in a new process
}

TEST(ConnectFunction, ItsStatusAndSubprotocolDecideTheHandshake) {
  code_dir code;
  code.write("app.js", R"(
exports.handler = async (event) => {
  const q = event.queryStringParameters || {};
  if (q.deny) return { statusCode: 403 };
  return { statusCode: 200, headers: { "Sec-WebSocket-Protocol": "chat" } };
};
)");
  test_server server(api_with(R"({"type":"builtin","handler":"echo"})",
                              lambda("nodejs20.x", "app.handler", code.path())));
  ws_client denied(10s);
  auto o = server.options();
  o.target += "?deny=1";
  EXPECT_EQ(denied.connect(o).status, 403);
  ws_client accepted(10s);
  auto o2 = server.options();
  o2.subprotocols = {"chat", "other"};
  auto hs = accepted.connect(o2);
  EXPECT_TRUE(hs.upgraded) << hs.error;
  EXPECT_EQ(hs.subprotocol.value_or(""), "chat");
}

// The executable, killed with SIGKILL: its function processes must not outlive it.
TEST(FunctionProcesses, DoNotOutliveTheEmulator) {
  code_dir code;
  code.write("app.js", kNodeCounter);
  const std::string config = code.write("api.json", api_with(lambda("nodejs20.x", "app.handler", ".")));
  child_process emulator(APIGW_EMULATOR_BINARY, {"--config", config, "--port", "0", "--quiet"});
  const std::string line = emulator.read_stdout_line(20s);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(ws://127\.0\.0\.1:(\d+)/dev)"))) << line;
  ws_client c(10s);
  connect_options o;
  o.port = static_cast<std::uint16_t>(std::stoi(m[1]));
  o.target = "/dev";
  ASSERT_TRUE(c.connect(o).upgraded);
  const long long pid = json_doc(reply(c, R"({"action":"run"})")).int64("pid").value_or(-1);
  ASSERT_EQ(::kill(static_cast<pid_t>(pid), 0), 0);  // alive while the emulator is
  emulator.signal(SIGKILL);
  emulator.wait(5s);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    // Reaped by init, or a zombie about to be: either way no longer running.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(stat, text);
    gone = text.empty() || text.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(gone) << "function process " << pid << " outlived the emulator";
}

TEST(FunctionConfig, BadDefinitionsAreRefusedWithTheirPath) {
  const auto error_of = [](const std::string& api) {
    try {
      test_server s(api);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(error_of(api_with(lambda("nodejs20.x", "app.handler", "/no/such/folder")))
                .find("integrations.Fn.codeUri: \"/no/such/folder\": no such folder"),
            std::string::npos);
  EXPECT_NE(error_of(api_with(lambda("ruby3.3", "app.handler", "/tmp"))).find("integrations.Fn.runtime: unknown runtime \"ruby3.3\""),
            std::string::npos);
  EXPECT_NE(error_of(api_with(lambda("nodejs20.x", "handler", "/tmp"))).find("integrations.Fn.handler: \"handler\" is not FILE.FUNCTION"),
            std::string::npos);
  EXPECT_NE(error_of(api_with(lambda("python3.12", "a.b", "/tmp", R"(,"environment":{"AWS_REGION":"x"})")))
                .find("integrations.Fn.environment.AWS_REGION: reserved"),
            std::string::npos);
  EXPECT_NE(error_of(api_with(lambda("provided.al2023", "x", "/tmp"))).find("needs an executable file named bootstrap"),
            std::string::npos);
  EXPECT_NE(error_of(api_with(lambda("nodejs20.x", "app.handler", "/tmp", R"(,"layers":["/no/such/layer"])")))
                .find("integrations.Fn.layers[0]: \"/no/such/layer\": no such folder (/no/such/layer); a layer is a "
                      "folder, relative to this file"),
            std::string::npos);
  EXPECT_NE(error_of(api_with(lambda("nodejs20.x", "app.handler", "/tmp",
                                     R"(,"layers":["/tmp","/tmp","/tmp","/tmp","/tmp","/tmp"])")))
                .find("integrations.Fn.layers: expected a list of at most 5 folders"),
            std::string::npos);
}

// Layers: each folder holds what Lambda extracts into /opt. Node.js finds packages in
// nodejs/node_modules and nodejs/nodeNN/node_modules, Python modules in python/ and
// python/lib/pythonX.Y/site-packages, a "provided" bootstrap programs in bin/; a later layer's
// files win over an earlier one's.
TEST(FunctionLayers, FunctionsImportFromTheirLayersAndALaterLayerWins) {
  code_dir first;
  first.write("nodejs/node_modules/greeting/index.js", "module.exports = 'first';\n");
  first.write("nodejs/node_modules/only-first/index.js", "module.exports = 'only in the first';\n");
  first.write("python/greeting.py", "WHO = 'first'\n");
  first.write("python/only_first.py", "WHO = 'only in the first'\n");
  first.write("bin/layer-tool", "#!/bin/sh\necho first tool\n", true);
  code_dir second;
  second.write("nodejs/node20/node_modules/greeting/index.js", "module.exports = 'second';\n");
  second.write("python/lib/python3.11/site-packages/greeting.py", "WHO = 'second'\n");
  const std::string layers = R"(,"layers":[")" + first.path() + R"(",")" + second.path() + R"("])";

  code_dir node;
  node.write("app.js", R"(
exports.handler = async () => ({statusCode: 200,
  body: require('greeting') + ', ' + require('only-first') + ', ' + require('child_process').execSync('layer-tool')});
)");
  {
    test_server server(api_with(lambda("nodejs20.x", "app.handler", node.path(), layers)));
    auto c = connected(server);
    EXPECT_EQ(reply(c, R"({"action":"run"})"), "second, only in the first, first tool\n");
  }
  code_dir python;
  python.write("app.py", R"(import greeting, only_first
def handler(event, context):
    return {"statusCode": 200, "body": greeting.WHO + ", " + only_first.WHO}
)");
  test_server server(api_with(lambda("python3.11", "app.handler", python.path(), layers)));
  auto c = connected(server);
  EXPECT_EQ(reply(c, R"({"action":"run"})"), "second, only in the first");
}

}  // namespace
}  // namespace apigw::functions_test

namespace apigw::functions_test {
namespace {

TEST(AuthorizerFunction, ItsAnswerIsJudgedAsAws) {
  code_dir code;
  code.write("auth.js", R"(
exports.handler = async (event) => {
  const token = event.queryStringParameters.token;
  if (event.type !== "REQUEST" || !event.methodArn.endsWith("/dev/$connect")) throw new Error("not a REQUEST event");
  if (token === "nobody") throw new Error("Unauthorized");
  if (token === "broken") throw new Error("something else");
  const effect = token === "denied" ? "Deny" : "Allow";
  return {
    principalId: "user-" + token,
    policyDocument: { Version: "2012-10-17",
                      Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: event.methodArn }] },
    context: { name: token, admin: false },
  };
};
)");
  const std::string api =
      R"({"routeSelectionExpression":"$request.body.action","routes":[)"
      R"({"routeKey":"$connect","integration":"Accept","authorizationType":"CUSTOM","authorizerId":"users"},)"
      R"({"routeKey":"whoami","integration":"Inspect","routeResponseSelectionExpression":"$default"}],)"
      R"("authorizers":{"users":{"function":"AuthFn","identitySource":["route.request.querystring.token"]}},)"
      R"("integrations":{"Accept":{"type":"builtin","handler":"mock","options":{"statusCode":200}},)"
      R"("Inspect":{"type":"builtin","handler":"inspect"},)"
      R"("AuthFn":)" + lambda("nodejs20.x", "auth.handler", code.path()) + "}}";
  log_sink log;
  test_server server(api, {}, test_server_options{2, "", &log});
  const auto status_for = [&](const std::string& query) {
    ws_client c(10s);
    auto o = server.options();
    o.target += query;
    return c.connect(o).status;
  };
  EXPECT_EQ(status_for(""), 401);                  // no identity source: the function is not called
  EXPECT_EQ(status_for("?token=nobody"), 401);     // "Unauthorized"
  EXPECT_EQ(status_for("?token=denied"), 403);     // a Deny policy
  EXPECT_EQ(status_for("?token=broken"), 500);     // any other failure
  ws_client c(10s);
  auto o = server.options();
  o.target += "?token=alice";
  ASSERT_TRUE(c.connect(o).upgraded);
  json_doc event(reply(c, R"({"action":"whoami"})"));
  EXPECT_EQ(event.str("requestContext.authorizer.principalId").value_or(""), "user-alice");
  EXPECT_EQ(event.str("requestContext.authorizer.name").value_or(""), "alice");
  EXPECT_EQ(event.str("requestContext.authorizer.admin").value_or(""), "false");  // as the C++ authorizers'
  EXPECT_TRUE(log.wait_for(4, 5s, "AuthFn", "", "START RequestId:")) << log.dump();  // not for the first
  EXPECT_EQ(log.find("AuthFn", "", "START RequestId:").size(), 4u);
  EXPECT_EQ(log.find("users", "", "START RequestId:").size(), 0u);  // the pool logs, under the function's name
}

}  // namespace
}  // namespace apigw::functions_test

namespace apigw::functions_test {
namespace {

// Functions that misbehave: each gets AWS's error on the wire (or its result), the log says what
// happened, and a connection to a well-behaved function next to it is served all along.
TEST(BadFunctions, FailAloneAndLeaveNothingRunning) {
  code_dir code;
  code.write("node/app.js", R"(
const { spawn } = require("child_process");
exports.handler = async (event) => {
  const what = JSON.parse(event.body).what;
  if (what === "loud") {  // 8 MB of log lines
    const line = "x".repeat(1023);
    for (let i = 0; i < 8192; i++) console.log(line);
    return { body: "said a lot" };
  }
  if (what === "huge") return { body: "y".repeat(7 * 1024 * 1024) };  // above Lambda's 6 MB
  if (what === "fork") {
    const child = spawn("sleep", ["60"], { stdio: "ignore" });
    return { body: String(child.pid) };
  }
  return { body: "fine" };
};
)");
  fs::create_directories(code.path() + "/provided");
  fs::copy_file(APIGW_PROVIDED_BOOTSTRAP, code.path() + "/provided/bootstrap");
  const std::string api =
      R"({"routeSelectionExpression":"$request.body.action","routes":[)"
      R"({"routeKey":"node","integration":"NodeFn","routeResponseSelectionExpression":"$default"},)"
      R"({"routeKey":"text","integration":"TextFn","routeResponseSelectionExpression":"$default"}],"integrations":{)"
      R"("NodeFn":)" + lambda("nodejs20.x", "app.handler", code.path() + "/node", R"(,"timeout":10)") + "," +
      R"("TextFn":)" + lambda("provided.al2023", "x", code.path() + "/provided",
                              R"(,"environment":{"BOOTSTRAP_ANSWER":"this is not JSON"})") + "}}";
  log_sink log;
  auto server = std::make_unique<test_server>(api, named_handlers{}, test_server_options{4, "", &log});
  auto bystander = connected(*server);
  auto c = connected(*server);
  const auto still_served = [&] { return reply(bystander, R"({"action":"node","what":"ok"})") == "fine"; };

  EXPECT_EQ(reply(c, R"({"action":"node","what":"loud"})", 30s), "said a lot");
  EXPECT_EQ(log.find("NodeFn", "", "xxxxxxxxxx").size(), 8192u);
  EXPECT_TRUE(still_served());

  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"node","what":"huge"})", 30s)));
  EXPECT_TRUE(still_served());

  EXPECT_TRUE(is_internal_error(reply(c, R"({"action":"text"})")));
  EXPECT_TRUE(still_served());

  const std::string forked = reply(c, R"({"action":"node","what":"fork"})");
  const pid_t grandchild = static_cast<pid_t>(std::stol(forked));
  EXPECT_EQ(::kill(grandchild, 0), 0);
  c.close(1000);
  bystander.close(1000);
  server.reset();  // stops every function process, and what they forked
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string text;
    std::getline(stat, text);
    gone = text.empty() || text.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(gone) << "a process forked by a function outlived the emulator";
}

// SIGTERM runs the pending $disconnects through the functions, then stops their processes.
TEST(FunctionProcesses, ShutdownRunsDisconnectThroughTheFunctionFirst) {
  code_dir code;
  const std::string out = code.path() + "/disconnects.txt";
  code.write("app.js", R"(
const fs = require("fs");
exports.handler = async (event) => {
  const rc = event.requestContext;
  if (rc.eventType === "DISCONNECT") {
    fs.appendFileSync(process.env.OUT, `${rc.connectionId} ${rc.disconnectStatusCode} ${rc.disconnectReason}\n`);
  }
  return { statusCode: 200, body: String(process.pid) };
};
)");
  const std::string fn = lambda("nodejs20.x", "app.handler", ".", R"(,"environment":{"OUT":")" + out + "\"}");
  const std::string config = code.write(
      "api.json", R"({"routeSelectionExpression":"$request.body.action","routes":[)"
                  R"({"routeKey":"$disconnect","integration":"Fn"},)"
                  R"({"routeKey":"pid","integration":"Fn","routeResponseSelectionExpression":"$default"}],)"
                  R"("integrations":{"Fn":)" + fn + "}}");
  child_process emulator(APIGW_EMULATOR_BINARY, {"--config", config, "--port", "0", "--quiet"});
  const std::string line = emulator.read_stdout_line(20s);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(ws://127\.0\.0\.1:(\d+)/dev)"))) << line;
  ws_client c(10s);
  connect_options o;
  o.port = static_cast<std::uint16_t>(std::stoi(m[1]));
  o.target = "/dev";
  ASSERT_TRUE(c.connect(o).upgraded);
  const pid_t pid = static_cast<pid_t>(std::stol(reply(c, R"({"action":"pid"})")));
  emulator.signal(SIGTERM);
  EXPECT_TRUE(c.read(10s).is_close(1001, "Going away"));  // reading answers the close
  EXPECT_EQ(emulator.wait(20s), std::optional<int>(0));
  std::ifstream written(out);
  std::string text((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(" 1001 Going away\n"), std::string::npos) << text;
  EXPECT_NE(::kill(pid, 0), 0) << "the function process outlived the emulator";
}

TEST(FunctionRuntimes, TheLogSaysWhenTheMachinesVersionDiffersFromTheRuntimes) {
  std::string version;
  if (FILE* p = ::popen("node --version", "r")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, p)) version = buf;
    ::pclose(p);
  }
  ASSERT_EQ(version.rfind("v", 0), 0u);
  const std::string other = version.rfind("v22.", 0) == 0 ? "nodejs20.x" : "nodejs22.x";
  code_dir code;
  code.write("app.js", "exports.handler = async () => ({ body: 'ok' });\n");
  log_sink log;
  test_server server(api_with(lambda(other, "app.handler", code.path())), {}, test_server_options{2, "", &log});
  const auto notes = log.find("Fn", "", other + " runs with this machine's Node.js v");
  ASSERT_EQ(notes.size(), 1u) << log.dump();
  auto c = connected(server);
  EXPECT_EQ(reply(c, R"({"action":"run"})"), "ok");  // and it runs
}

}  // namespace
}  // namespace apigw::functions_test

namespace apigw::functions_test {
namespace {

// The routing trace says, for every function invocation, whether it started cold and what failed.
TEST(FunctionTrace, ShowsColdOrWarmStartsAndErrorTypes) {
  code_dir code;
  code.write("app.js", kNodeCounter);
  test_server server(api_with(lambda("nodejs20.x", "app.handler", code.path())));
  auto c = connected(server);
  reply(c, R"({"action":"run"})");
  reply(c, R"({"action":"run"})");
  reply(c, R"({"action":"run","fail":"x"})");
  reply(c, R"({"action":"run","exit":2})");
  const auto r = http_call(server.port(), "GET", "/@emulator/trace?limit=10");
  ASSERT_EQ(r.status, 200) << r.body;
  const json_doc doc(r.body);
  std::vector<json_doc> messages;
  for (const auto& v : doc.at("trace")->GetArray()) {
    json_doc record(to_json(v));
    if (record.str("eventType") == "MESSAGE") messages.push_back(record);
  }
  ASSERT_EQ(messages.size(), 4u) << r.body;
  EXPECT_EQ(messages[0].boolean("coldStart"), std::optional<bool>(true));
  // Lambda's own request id (a UUID, not API Gateway's), as the function's log lines carry it.
  EXPECT_TRUE(std::regex_match(messages[0].str("functionRequestId").value_or(""),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_NE(messages[0].str("functionRequestId"), messages[0].str("requestId"));
  EXPECT_FALSE(messages[0].has("functionError"));
  EXPECT_EQ(messages[1].boolean("coldStart"), std::optional<bool>(false));
  EXPECT_EQ(messages[2].str("functionError"), std::optional<std::string>("TypeError"));
  EXPECT_EQ(messages[2].int64("status"), std::optional<std::int64_t>(500));
  EXPECT_EQ(messages[3].str("functionError"), std::optional<std::string>("Runtime.ExitError"));
}

}  // namespace
}  // namespace apigw::functions_test

namespace apigw::functions_test {
namespace {

TEST(FunctionExplain, NamesTheFunctionAMessageWouldRun) {
  code_dir code;
  code.write("app.js", kNodeCounter);
  test_server server(api_with(lambda("nodejs20.x", "app.handler", code.path())));
  const auto r = http_call(server.port(), "POST", "/@emulator/explain", R"({"action":"run"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json_doc x(r.body);
  EXPECT_EQ(x.str("integration"), std::optional<std::string>("Fn"));
  EXPECT_EQ(x.str("handler"), std::optional<std::string>("app.handler"));
  EXPECT_EQ(x.str("function.runtime"), std::optional<std::string>("nodejs20.x"));
  EXPECT_EQ(x.str("function.codeUri"), std::optional<std::string>(code.path()));
}

}  // namespace
}  // namespace apigw::functions_test

namespace apigw::functions_test {
namespace {

// A runtime the machine lacks stops the emulator at start, saying what to install.
TEST(FunctionConfig, AMissingRuntimeSaysWhatToInstall) {
  code_dir code;
  code.write("app.js", "exports.handler = async () => ({});\n");
  const std::string config = code.write("api.json", api_with(lambda("nodejs20.x", "app.handler", ".")));
  // PATH without node (env itself is called by its full path).
  child_process emulator("/usr/bin/env", {"PATH=" + code.path(), APIGW_EMULATOR_BINARY, "--config", config, "--port", "0"});
  EXPECT_EQ(emulator.wait(20s), std::optional<int>(2));
  const std::string err = emulator.read_stderr_all(2s);
  EXPECT_NE(err.find("api.json: integrations.Fn.runtime: \"nodejs20.x\" needs Node.js, which this machine does not "
                     "have; install it (apt-get install nodejs npm)"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace apigw::functions_test

namespace apigw::functions_test {
namespace {

// The variables Lambda defines, the config's, and none of the user's own AWS configuration.
TEST(FunctionEnvironment, IsLambdasAndKeepsTheUsersAwsConfigurationOut) {
  ::setenv("AWS_PROFILE", "my-real-profile", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "my-real-secret", 1);
  ::setenv("SOME_OTHER_VARIABLE", "leaked", 1);
  code_dir code;
  code.write("app.js", "exports.handler = async () => ({ body: JSON.stringify(process.env) });\n");
  test_server server(api_with(lambda("nodejs20.x", "app.handler", code.path(),
                                     R"(,"memorySize":512,"environment":{"STAGE_NAME":"test"})")));
  ::unsetenv("AWS_PROFILE");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("SOME_OTHER_VARIABLE");
  auto c = connected(server);
  json_doc env(reply(c, R"({"action":"run"})"));
  const auto var = [&](const char* name) { return env.str(name).value_or("(unset)"); };
  EXPECT_EQ(var("_HANDLER"), "app.handler");
  EXPECT_EQ(var("AWS_REGION"), "us-east-1");
  EXPECT_EQ(var("AWS_DEFAULT_REGION"), "us-east-1");
  EXPECT_EQ(var("AWS_EXECUTION_ENV"), "AWS_Lambda_nodejs20.x");
  EXPECT_EQ(var("AWS_LAMBDA_FUNCTION_NAME"), "Fn");
  EXPECT_EQ(var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "512");
  EXPECT_EQ(var("AWS_LAMBDA_FUNCTION_VERSION"), "$LATEST");
  EXPECT_EQ(var("AWS_LAMBDA_LOG_GROUP_NAME"), "/aws/lambda/Fn");
  EXPECT_TRUE(std::regex_match(var("AWS_LAMBDA_LOG_STREAM_NAME"),
                               std::regex(R"(\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32})")))
      << var("AWS_LAMBDA_LOG_STREAM_NAME");
  EXPECT_TRUE(std::regex_match(var("AWS_LAMBDA_RUNTIME_API"), std::regex(R"(127\.0\.0\.1:\d+)")));
  EXPECT_EQ(var("LAMBDA_TASK_ROOT"), code.path());
  EXPECT_EQ(var("TZ"), "UTC");
  EXPECT_EQ(var("STAGE_NAME"), "test");
  EXPECT_TRUE(std::regex_match(var("AWS_ACCESS_KEY_ID"), std::regex("ASIA[A-Z2-7]{16}"))) << var("AWS_ACCESS_KEY_ID");
  EXPECT_NE(var("AWS_SECRET_ACCESS_KEY"), "my-real-secret");
  EXPECT_NE(var("AWS_SESSION_TOKEN"), "(unset)");
  EXPECT_EQ(var("AWS_PROFILE"), "(unset)");
  EXPECT_EQ(var("SOME_OTHER_VARIABLE"), "(unset)");
  EXPECT_EQ(var("AWS_CONFIG_FILE"), "/dev/null");
  EXPECT_EQ(var("AWS_SHARED_CREDENTIALS_FILE"), "/dev/null");
}

}  // namespace
}  // namespace apigw::functions_test
