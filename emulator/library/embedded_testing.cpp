// apigw::testing (include/apigw/testing.hpp): GoogleTest helpers over apigw::embedded_emulator and
// apigw::client; no Beast here.
#include "apigw/testing.hpp"

#include <sstream>
#include <utility>

namespace apigw::testing {
namespace {

std::string describe(const frame& f) {
  std::ostringstream out;
  out << f;
  return out.str();
}

}  // namespace

test_client::test_client(client c, std::string connect_error)
    : client_(std::move(c)), connect_error_(std::move(connect_error)) {}

::testing::AssertionResult test_client::connected() const {
  if (connect_error_.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the client did not connect: " << connect_error_;
}

::testing::AssertionResult test_client::refused_with(int status) const {
  if (connect_error_.empty()) {
    return ::testing::AssertionFailure() << "the connection was accepted; expected a refusal with " << status;
  }
  if (client_.handshake_status() != status) {
    return ::testing::AssertionFailure() << "expected a refusal with " << status << ", got: " << connect_error_;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult test_client::send(std::string_view text) {
  if (client_.send(text)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "cannot send \"" << text << "\": "
                                       << (client_.is_open() ? "the send failed" : "not connected");
}

::testing::AssertionResult test_client::expect_frame(std::string_view expected, std::chrono::milliseconds timeout) {
  const frame f = client_.receive(timeout);
  if (f.is_text(expected)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected text frame \"" << expected << "\", got " << describe(f);
}

::testing::AssertionResult test_client::expect_no_frame(std::chrono::milliseconds timeout) {
  const frame f = client_.receive(timeout);
  if (f.type == frame::kind::timeout) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected nothing, got " << describe(f);
}

::testing::AssertionResult test_client::expect_close(int code, std::chrono::milliseconds timeout) {
  const frame f = client_.receive(timeout);
  if (f.type == frame::kind::close && f.close_code == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected close " << code << ", got " << describe(f);
}

test_emulator::test_emulator(std::string config_json, const handlers_function& add_handlers,
                             const emulator_options& options)
    : test_emulator(embedded_emulator::from_json(std::move(config_json), "test-config.json"), add_handlers,
                    options) {}

test_emulator test_emulator::from_file(std::string path, const handlers_function& add_handlers,
                                       const emulator_options& options) {
  return test_emulator(embedded_emulator::from_file(std::move(path)), add_handlers, options);
}

test_emulator::test_emulator(embedded_emulator e, const handlers_function& add_handlers,
                             const emulator_options& options)
    : emulator_(std::move(e)) {
  if (add_handlers) add_handlers(emulator_.handlers());
  error_ = emulator_.start(options);
}

::testing::AssertionResult test_emulator::started() const {
  if (error_.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the emulator did not start: " << error_;
}

test_client test_emulator::connect(std::string_view path_and_query, const client_options& options) {
  client c;
  if (!emulator_.running()) return test_client(std::move(c), "the emulator is not running: " + error_);
  std::string url = emulator_.url();
  if (!path_and_query.empty()) {
    url = "ws://127.0.0.1:" + std::to_string(emulator_.port()) + std::string(path_and_query);
  }
  std::string error = c.connect(url, options);
  return test_client(std::move(c), std::move(error));
}

dynamo_result test_emulator::table_call(std::string_view operation, std::string_view request_json) {
  rapidjson::Document request;
  request.Parse(request_json.data(), request_json.size());
  if (request.HasParseError()) return dynamo_result("SerializationException", "the request is not valid JSON");
  if (!emulator_.running()) return dynamo_result("InternalServerError", "the emulator is not running");
  return emulator_.tables().call(operation, request);
}

int test_emulator::item_count(std::string_view table) {
  const std::string request = "{\"TableName\": \"" + std::string(table) + "\"}";
  auto r = table_call("Scan", request);
  if (!r.ok()) {
    ADD_FAILURE() << "Scan of " << table << " failed: " << r.error().type << ": " << r.error().message;
    return -1;
  }
  const auto& body = r.body();
  if (auto count = body.FindMember("Count"); count != body.MemberEnd() && count->value.IsInt()) {
    return count->value.GetInt();
  }
  if (auto items = body.FindMember("Items"); items != body.MemberEnd() && items->value.IsArray()) {
    return static_cast<int>(items->value.Size());
  }
  return 0;
}

}  // namespace apigw::testing
