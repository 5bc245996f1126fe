// Plugin integrations: handlers from a shared library serve routes like built-ins (the library
// loaded once however many integrations name it), and every way a library can be wrong stops the
// executable with exit status 2 and a message naming the integration's JSON path and the file.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/child_process.hpp"
#include "tests/support/test_server.hpp"
#include "tests/support/ws_client.hpp"

namespace apigw::plugin_tests {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// An API whose route "go" (two-way) and $default are served by plugin integrations.
std::string api_json(const std::string& library, const std::string& handler = "greet",
                     const std::string& second_options = R"({"greeting": "hi"})") {
  return R"({
    "name": "plugins",
    "routeSelectionExpression": "$request.body.action",
    "stage": {"name": "dev"},
    "routes": [
      {"routeKey": "go", "integration": "chat", "routeResponseSelectionExpression": "$default"},
      {"routeKey": "again", "integration": "second", "routeResponseSelectionExpression": "$default"},
      {"routeKey": "count", "integration": "count", "routeResponseSelectionExpression": "$default"},
      {"routeKey": "fail", "integration": "fail", "routeResponseSelectionExpression": "$default"}
    ],
    "integrations": {
      "chat": {"type": "plugin", "library": ")" + library + R"(", "handler": ")" + handler + R"("},
      "second": {"type": "plugin", "library": ")" + library + R"(", "handler": "greet",
                 "options": )" + second_options + R"(},
      "count": {"type": "plugin", "library": ")" + library + R"(", "handler": "registrations"},
      "fail": {"type": "plugin", "library": ")" + library + R"(", "handler": "fail"}
    }
  })";
}

// A fresh temporary directory, removed with the object.
class temp_dir {
 public:
  temp_dir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("apigw-plugin-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

std::string reply(test_support::ws_client& client, const std::string& message) {
  if (!client.send_text(message)) return "(send failed)";
  const auto m = client.read(5s);
  return m.type == test_support::ws_message::kind::text ? m.data : "(no text frame)";
}

TEST(PluginTest, ServesRoutesWithTheLibrarysHandlers) {
  test_support::test_server server(api_json(APIGW_GOOD_PLUGIN));
  test_support::ws_client client;
  ASSERT_TRUE(client.connect(server.options()).upgraded);
  EXPECT_EQ(reply(client, R"({"action": "go"})"), "hello from the plugin");
  EXPECT_EQ(reply(client, R"({"action": "again"})"), "hi");
}

TEST(PluginTest, LoadsALibraryOnceForEveryIntegrationNamingIt) {
  test_support::test_server server(api_json(APIGW_GOOD_PLUGIN));
  test_support::ws_client client;
  ASSERT_TRUE(client.connect(server.options()).upgraded);
  EXPECT_EQ(reply(client, R"({"action": "count"})"), "1");
}

TEST(PluginTest, AHandlerThatThrowsGivesTheClientInternalServerError) {
  test_support::test_server server(api_json(APIGW_GOOD_PLUGIN));
  test_support::ws_client client;
  ASSERT_TRUE(client.connect(server.options()).upgraded);
  EXPECT_NE(reply(client, R"({"action": "fail"})").find("Internal server error"), std::string::npos);
}

TEST(PluginTest, BadOptionsNameTheIntegration) {
  try {
    test_support::test_server server(api_json(APIGW_GOOD_PLUGIN, "greet", R"({"greeting": 7})"));
    FAIL() << "the server started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("integrations.second: options.greeting: expected a string"),
              std::string::npos)
        << e.what();
  }
}

// Runs the executable on an API whose plugin integrations name LIBRARY (and HANDLER): it must
// exit with 2 and say where and what.
void expect_refused(const std::string& library, const std::string& expected, const std::string& handler = "greet",
                    const std::string& path = "integrations.chat.library") {
  temp_dir dir;
  const std::string config = dir.file("api.json", api_json(library, handler));
  test_support::child_process child(APIGW_EMULATOR_BINARY, {"--config", config, "--port", "0"});
  const auto status = child.wait(20s);
  const std::string err = child.read_stderr_all(2s);
  ASSERT_TRUE(status.has_value()) << "still running; stderr: " << err;
  EXPECT_EQ(*status, 2) << err;
  EXPECT_NE(err.find(config + ": " + path), std::string::npos) << err;
  EXPECT_NE(err.find(expected), std::string::npos) << err;
}

TEST(PluginLoadErrorTest, MissingLibrary) {
  temp_dir dir;
  const std::string missing = (fs::temp_directory_path() / "apigw-no-such-plugin.so").string();
  expect_refused(missing, "cannot load the plugin " + missing + ": no such file");
}

TEST(PluginLoadErrorTest, NotASharedLibrary) {
  temp_dir dir;
  const std::string fake = dir.file("libfake.so", "this is text, not ELF\n");
  expect_refused(fake, "cannot load the plugin " + fake + ": not a loadable shared library: ");
}

TEST(PluginLoadErrorTest, NoEntryPoint) {
  expect_refused(APIGW_NO_ENTRY_PLUGIN,
                 "cannot load the plugin " + fs::weakly_canonical(APIGW_NO_ENTRY_PLUGIN).string() +
                     ": not an apigw plugin: it exports no apigw_plugin_api_version");
}

TEST(PluginLoadErrorTest, WrongApiVersion) {
  expect_refused(APIGW_WRONG_VERSION_PLUGIN, "built against plugin API version 999, but this emulator loads version 1");
}

TEST(PluginLoadErrorTest, RegistrationThrows) {
  expect_refused(APIGW_THROWING_PLUGIN, "its registration failed: the database URL is not set");
}

TEST(PluginLoadErrorTest, UnknownHandler) {
  expect_refused(APIGW_GOOD_PLUGIN, "registers no handler \"nope\"; it registers: fail, greet, registrations", "nope",
                 "integrations.chat.handler");
}

}  // namespace
}  // namespace apigw::plugin_tests
