// Shared pieces of the end-to-end tests: an API config builder, a fixture owning an in-process
// server with a recorder registered as handler "recorder", and assertions on AWS's error frames.
// Thread-safety: test-thread only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include "tests/support/json_doc.hpp"
#include "tests/support/raw_connection.hpp"
#include "tests/support/recorder.hpp"
#include "tests/support/test_server.hpp"
#include "tests/support/ws_client.hpp"

namespace apigw::e2e {

using namespace apigw::test_support;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// TEXT as a JSON string literal (with the quotes).
inline std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
  return out + "\"";
}

// A route: KEY served by INTEGRATION, two-way when TWO_WAY.
inline std::string route(std::string_view key, std::string_view integration, bool two_way = false) {
  std::string r = "{\"routeKey\":" + json_string(key) + ",\"integration\":" + json_string(integration);
  if (two_way) r += ",\"routeResponseSelectionExpression\":\"$default\"";
  return r + "}";
}

// An integration running built-in handler HANDLER with OPTIONS (a JSON object).
inline std::string builtin(std::string_view handler, std::string_view options = "{}") {
  return "{\"type\":\"builtin\",\"handler\":" + json_string(handler) + ",\"options\":" +
         std::string(options) + "}";
}

// The JSON config of one API. Integrations "echo" and "inspect" are always defined.
struct api_config {
  std::string expression = "$request.body.action";
  std::string api_id = "e2eapi0001";
  std::string stage = R"({"name":"dev"})";
  std::string limits;  // members of "limits", e.g. R"("idleTimeoutSeconds":0.3)"
  std::vector<std::string> routes;
  std::vector<std::pair<std::string, std::string>> integrations;

  api_config& add_route(std::string_view key, std::string_view integration, bool two_way = false) {
    routes.push_back(route(key, integration, two_way));
    return *this;
  }
  api_config& add_integration(std::string name, std::string spec) {
    integrations.emplace_back(std::move(name), std::move(spec));
    return *this;
  }

  std::string json() const {
    std::string j = "{\"name\":\"e2e\",\"apiId\":" + json_string(api_id) +
                    ",\"routeSelectionExpression\":" + json_string(expression) +
                    ",\"stage\":" + stage;
    if (!limits.empty()) j += ",\"limits\":{" + limits + "}";
    j += ",\"routes\":[";
    for (std::size_t i = 0; i < routes.size(); ++i) j += (i ? "," : "") + routes[i];
    j += "],\"integrations\":{\"echo\":" + builtin("echo") + ",\"inspect\":" + builtin("inspect");
    for (const auto& [name, spec] : integrations) j += "," + json_string(name) + ":" + spec;
    return j + "}}";
  }
};

// An integration running the fixture's recorder.
// Every byte outside RFC 3986's unreserved set as %XX ("=" -> "%3D").
inline std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

inline std::string recorder_integration() { return R"({"type":"builtin","handler":"recorder"})"; }

// The value of field NAME (any case) in the object at CONTAINER ("headers") of event E.
inline std::optional<std::string> field_of(const json_doc& e, std::string_view container,
                                           std::string_view name) {
  for (const auto& key : e.keys(container)) {
    if (iequals(key, name)) return e.str(std::string(container) + "." + key);
  }
  return std::nullopt;
}

inline bool has_field(const json_doc& e, std::string_view container, std::string_view name) {
  for (const auto& key : e.keys(container)) {
    if (iequals(key, name)) return true;
  }
  return false;
}

inline const std::string id_pattern = "[A-Za-z0-9_-]{15}=";

inline bool is_id(std::string_view s) {
  static const std::regex re("^" + id_pattern + "$");
  return std::regex_match(s.begin(), s.end(), re);
}

inline std::string regex_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// M is exactly the text frame
// {"message": "MESSAGE", "connectionId":"CONNECTION_ID", "requestId":"<an id>"}
// (any well-formed id when CONNECTION_ID is empty).
inline ::testing::AssertionResult is_error_frame(const ws_message& m, std::string_view message,
                                                 std::string_view connection_id) {
  if (m.type != ws_message::kind::text) {
    return ::testing::AssertionFailure() << "expected a text frame, got " << m;
  }
  const std::string id = connection_id.empty() ? id_pattern : regex_escape(connection_id);
  const std::regex re("^\\{\"message\": \"" + regex_escape(message) + "\", \"connectionId\":\"" + id +
                      "\", \"requestId\":\"" + id_pattern + "\"\\}$");
  if (!std::regex_match(m.data, re)) {
    return ::testing::AssertionFailure()
           << "expected {\"message\": \"" << message << "\", \"connectionId\":\""
           << (connection_id.empty() ? "<id>" : std::string(connection_id))
           << "\", \"requestId\":\"<id>\"}, got " << m;
  }
  return ::testing::AssertionSuccess();
}

// A fixture with a recorder registered as handler "recorder".
class e2e_test : public ::testing::Test {
 protected:
  void start(const api_config& api, unsigned threads = 2) {
    server_ = std::make_unique<test_server>(api.json(), named_handlers{{"recorder", recorder_}}, threads);
  }

  // The same with EXTRA handlers registered next to the recorder.
  void start(const api_config& api, named_handlers extra, const test_server_options& options) {
    extra.emplace_back("recorder", recorder_);
    server_ = std::make_unique<test_server>(api.json(), std::move(extra), options);
  }

  // A client connected to TARGET (default /STAGE); nullptr (and a failure) when the upgrade fails.
  std::unique_ptr<ws_client> open(std::string target = "", header_list headers = {}) {
    auto o = server_->options(std::move(target));
    o.headers = std::move(headers);
    return open_with(o);
  }

  std::unique_ptr<ws_client> open_with(const connect_options& o) {
    auto client = std::make_unique<ws_client>();
    const auto hs = client->connect(o);
    if (!hs.upgraded) {
      ADD_FAILURE() << "upgrade of " << o.target << " failed: status " << hs.status << ", "
                    << hs.error;
      return nullptr;
    }
    return client;
  }

  // The connectionId of the latest CONNECT event the recorder saw ("" when none).
  std::string last_connection_id() const {
    const auto connects = recorder_->events("CONNECT");
    if (connects.empty()) return "";
    return connects.back().str("requestContext.connectionId").value_or("");
  }

  std::shared_ptr<recorder> recorder_ = std::make_shared<recorder>();
  std::unique_ptr<test_server> server_;
};

// Sends TEXT and expects EXPECTED as the next frame.
inline ::testing::AssertionResult round_trip(ws_client& c, std::string_view text,
                                             std::string_view expected) {
  if (!c.send_text(text)) return ::testing::AssertionFailure() << "send failed";
  const auto m = c.read();
  if (!m.is_text(expected)) {
    return ::testing::AssertionFailure() << "expected text \"" << expected << "\", got " << m;
  }
  return ::testing::AssertionSuccess();
}

// A fresh directory under the system's temporary directory, removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("apigw-e2e-dir-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  // The path of NAME inside the directory.
  std::string path(std::string_view name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

inline long long elapsed_ms(steady::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - since).count();
}

}  // namespace apigw::e2e
