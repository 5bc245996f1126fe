// What goes back to the caller after a message route ran (docs/behaviour.md, "Integration
// results"): nothing on one-way routes, the body on two-way routes, binary for base64 bodies, AWS's error frame on a
// failing handler.
#include "tests/e2e/e2e_common.hpp"

namespace apigw::e2e {
namespace {

class RouteResponseTest : public e2e_test {
 protected:
  void SetUp() override {
    api_config api;
    api.add_route("$connect", "rec")
        .add_route("echo", "echo", true)
        .add_route("oneway", "ok_body")
        .add_route("twoway", "ok_body", true)
        .add_route("empty", "empty_body", true)
        .add_route("status500", "status500", true)
        .add_route("status404", "status404", true)
        .add_route("oneway500", "status500")
        .add_route("throws2", "throws", true)
        .add_route("throws1", "throws")
        .add_route("throwsslow", "throws_slow", true)
        .add_route("recorded", "rec", true)
        .add_route("$default", "throws", true)
        .add_integration("rec", recorder_integration())
        .add_integration("ok_body", builtin("mock", R"({"statusCode":200,"body":"must-be-the-body"})"))
        .add_integration("empty_body", builtin("mock", R"({"statusCode":200,"body":""})"))
        .add_integration("status500", builtin("mock", R"({"statusCode":500,"body":"failed-body"})"))
        .add_integration("status404", builtin("mock", R"({"statusCode":404,"body":"not-found-body"})"))
        .add_integration("throws", builtin("mock", R"({"throw":"boom"})"))
        .add_integration("throws_slow", builtin("mock", R"({"throw":"slow boom","delayMillis":20})"));
    start(api);
    client_ = open();
    ASSERT_TRUE(client_);
    id_ = last_connection_id();
    ASSERT_TRUE(is_id(id_)) << id_;
  }

  // The next frame is the echo of a fresh message: nothing else was sent before it.
  ::testing::AssertionResult next_frame_is_echo(int n) {
    const std::string msg = R"({"action":"echo","n":)" + std::to_string(n) + "}";
    return round_trip(*client_, msg, msg);
  }

  std::unique_ptr<ws_client> client_;
  std::string id_;
};

TEST_F(RouteResponseTest, OneWayRouteSendsNothing) {
  ASSERT_TRUE(client_->send_text(R"({"action":"oneway"})"));
  EXPECT_TRUE(next_frame_is_echo(1));
}

TEST_F(RouteResponseTest, TwoWayRouteSendsTheBody) {
  EXPECT_TRUE(round_trip(*client_, R"({"action":"twoway"})", "must-be-the-body"));
}

TEST_F(RouteResponseTest, TwoWayRouteSendsAnEmptyBodyAsAnEmptyTextFrame) {
  ASSERT_TRUE(client_->send_text(R"({"action":"empty"})"));
  const auto m = client_->read();
  EXPECT_EQ(m.type, ws_message::kind::text) << m;
  EXPECT_EQ(m.data, "");
  EXPECT_TRUE(next_frame_is_echo(2));
}

TEST_F(RouteResponseTest, TwoWayRouteSendsTheBodyWhateverTheStatusCode) {
  EXPECT_TRUE(round_trip(*client_, R"({"action":"status500"})", "failed-body"));
  EXPECT_TRUE(round_trip(*client_, R"({"action":"status404"})", "not-found-body"));
}

// A handler that posts to its own connection and answers on a two-way route: the post went out
// while it ran, before its answer, as on AWS, where postToConnection returns before the function
// does.
TEST_F(RouteResponseTest, AHandlersPostToItsOwnConnectionArrivesBeforeItsAnswer) {
  recorder::reply r;
  r.status_code = 200;
  r.body = "the-answer";
  r.post_to_self = "the-post";
  recorder_->set_reply(r);
  ASSERT_TRUE(client_->send_text(R"({"action":"recorded"})"));
  EXPECT_TRUE(client_->read().is_text("the-post"));
  EXPECT_TRUE(client_->read().is_text("the-answer"));
  EXPECT_TRUE(next_frame_is_echo(4));
}

TEST_F(RouteResponseTest, NonSuccessStatusOnOneWayRouteSendsNothing) {
  ASSERT_TRUE(client_->send_text(R"({"action":"oneway500"})"));
  EXPECT_TRUE(next_frame_is_echo(3));
  EXPECT_TRUE(client_->is_open());
}

TEST_F(RouteResponseTest, Base64EncodedBodyIsSentAsBinaryFrame) {
  recorder::reply r;
  r.status_code = 200;
  r.body = "AAEC/w==";  // 00 01 02 ff
  r.is_base64_encoded = true;
  recorder_->set_reply(r);
  ASSERT_TRUE(client_->send_text(R"({"action":"recorded"})"));
  const auto m = client_->read();
  EXPECT_EQ(m.type, ws_message::kind::binary) << m;
  EXPECT_EQ(m.data, std::string("\x00\x01\x02\xff", 4));
}

TEST_F(RouteResponseTest, ThrowingHandlerSendsInternalServerErrorOnEveryRoute) {
  const char* messages[] = {
      R"({"action":"throws2"})",     // two-way, inline mock
      R"({"action":"throws1"})",     // one-way
      R"({"action":"throwsslow"})",  // a handler that blocks, then throws
      "not json",                    // $default
  };
  int n = 10;
  for (const char* msg : messages) {
    SCOPED_TRACE(msg);
    ASSERT_TRUE(client_->send_text(msg));
    EXPECT_TRUE(is_error_frame(client_->read(), "Internal server error", id_));
    EXPECT_TRUE(next_frame_is_echo(n++));  // the connection stays open
  }
}

TEST_F(RouteResponseTest, ThrowingRecorderSendsInternalServerError) {
  recorder::reply r;
  r.throw_message = "recorder fails";
  recorder_->set_reply(r);
  ASSERT_TRUE(client_->send_text(R"({"action":"recorded"})"));
  EXPECT_TRUE(is_error_frame(client_->read(), "Internal server error", id_));
  EXPECT_TRUE(next_frame_is_echo(4));
}

}  // namespace
}  // namespace apigw::e2e
