#include "emulator/core/management_api.hpp"

#include <gtest/gtest.h>

namespace apigw::emulator {
namespace {

// A connection that records what the management API asked of it.
class fake_connection final : public connection {
 public:
  explicit fake_connection(bool open) : open_(open) {
    info_.id = "abc/def+ghi=====";
    info_.connected_at = std::chrono::system_clock::time_point{std::chrono::milliseconds(1643136604673)};
    info_.source_ip = "127.0.0.1";
    info_.user_agent = "agent/1";
  }
  const connection_info& info() const override { return info_; }
  bool is_open() const override { return open_; }
  std::chrono::system_clock::time_point last_active() const override {
    return info_.connected_at + std::chrono::milliseconds(1500);
  }
  void send(std::string data, bool binary) override {
    sent.push_back(std::move(data));
    sent_binary = binary;
  }
  void close(int code, std::string reason) override {
    close_code = code;
    close_reason = std::move(reason);
  }

  std::vector<std::string> sent;
  bool sent_binary = false;
  int close_code = 0;
  std::string close_reason;

 private:
  connection_info info_;
  bool open_;
};

class ManagementApiTest : public ::testing::Test {
 protected:
  static config::api_spec small_api() {
    config::api_spec spec;
    spec.stage.name = "dev";
    spec.limits.max_message_bytes = 16;
    return spec;
  }

  ManagementApiTest() {
    registry_.add("abc/def+ghi=====", open_);
    registry_.add("connecting000000", connecting_);
  }

  std::string header(const http_answer& a, std::string_view name) {
    for (const auto& [n, v] : a.headers)
      if (n == name) return v;
    return "(none)";
  }

  config::api_spec api_ = small_api();
  connection_registry registry_;
  std::shared_ptr<fake_connection> open_ = std::make_shared<fake_connection>(true);
  std::shared_ptr<fake_connection> connecting_ = std::make_shared<fake_connection>(false);
  management_api api{registry_, api_};
};

TEST_F(ManagementApiTest, RecognisesManagementTargets) {
  EXPECT_TRUE(management_api::is_management_target("/@connections/x"));
  EXPECT_TRUE(management_api::is_management_target("/dev/@connections/x"));
  EXPECT_TRUE(management_api::is_management_target("/dev/%40connections/x"));
  EXPECT_TRUE(management_api::is_management_target("/@connections"));
  EXPECT_FALSE(management_api::is_management_target("/dev"));
  EXPECT_FALSE(management_api::is_management_target("/"));
  EXPECT_FALSE(management_api::is_management_target("/a/b/@connections/x"));
}

TEST_F(ManagementApiTest, PostSendsTextAndAnswers200) {
  const auto a = api.handle_http("POST", "/dev/@connections/abc%2Fdef%2Bghi%3D%3D%3D%3D%3D", "hello");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "");
  ASSERT_EQ(open_->sent.size(), 1u);
  EXPECT_EQ(open_->sent[0], "hello");
  EXPECT_FALSE(open_->sent_binary);
}

TEST_F(ManagementApiTest, BothPathFormsAndEncodedAt) {
  EXPECT_EQ(api.handle_http("POST", "/@connections/abc%2Fdef+ghi=====", "a").status, 200);
  EXPECT_EQ(api.handle_http("POST", "/dev/%40connections/abc%2Fdef+ghi=====", "b").status, 200);
  EXPECT_EQ(open_->sent.size(), 2u);
}

TEST_F(ManagementApiTest, GetDescribesTheConnection) {
  const auto a = api.handle_http("GET", "/dev/@connections/abc%2Fdef+ghi=====", "");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(header(a, "Content-Type"), "application/json");
  EXPECT_EQ(a.body, R"({"connectedAt":"2022-01-25T18:50:04.673Z","identity":{"sourceIp":"127.0.0.1",)"
                    R"("userAgent":"agent/1"},"lastActiveAt":"2022-01-25T18:50:06.173Z"})");
}

TEST_F(ManagementApiTest, DeleteClosesWith1000) {
  const auto a = api.handle_http("DELETE", "/dev/@connections/abc%2Fdef+ghi=====", "");
  EXPECT_EQ(a.status, 204);
  EXPECT_EQ(a.body, "");
  EXPECT_EQ(open_->close_code, 1000);
}

TEST_F(ManagementApiTest, UnknownAndConnectingIdsAreGone) {
  for (const char* method : {"POST", "GET", "DELETE"}) {
    for (const char* target : {"/dev/@connections/nope", "/dev/@connections/connecting000000"}) {
      const auto a = api.handle_http(method, target, "x");
      EXPECT_EQ(a.status, 410) << method << " " << target;
      EXPECT_EQ(header(a, "x-amzn-ErrorType"), "GoneException");
      EXPECT_EQ(a.body, "");
    }
  }
  EXPECT_TRUE(connecting_->sent.empty());
  EXPECT_EQ(connecting_->close_code, 0);
}

TEST_F(ManagementApiTest, DataOverTheLimitIs413) {
  const auto a = api.handle_http("POST", "/dev/@connections/abc%2Fdef+ghi=====", std::string(17, 'x'));
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(header(a, "x-amzn-ErrorType"), "PayloadTooLargeException");
  EXPECT_EQ(a.body, R"({"message":"Message too long. The maximum size is 16 bytes."})");
  EXPECT_TRUE(open_->sent.empty());
  EXPECT_EQ(api.handle_http("POST", "/dev/@connections/abc%2Fdef+ghi=====", std::string(16, 'x')).status, 200);
}

TEST_F(ManagementApiTest, BadRequestsGetClearErrors) {
  auto a = api.handle_http("PUT", "/dev/@connections/abc", "");
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(header(a, "Allow"), "POST, GET, DELETE");
  a = api.handle_http("GET", "/prod/@connections/abc", "");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body, R"({"message":"Stage \"prod\" does not exist; this API's stage is \"dev\""})");
  a = api.handle_http("GET", "/dev/@connections/", "");
  EXPECT_EQ(a.status, 404);
  a = api.handle_http("GET", "/dev/@connections/a/b", "");
  EXPECT_EQ(a.status, 404);
  a = api.handle_http("GET", "/dev/@connections/%zz", "");
  EXPECT_EQ(a.status, 400);
  a = api.handle_http("GET", "/dev/@connections/%4", "");
  EXPECT_EQ(a.status, 400);
}

TEST_F(ManagementApiTest, InProcessCallsReportGone) {
  apigw::connection_description d;
  EXPECT_TRUE(api.get_connection("nope", &d).gone());
  EXPECT_TRUE(api.post_to_connection("nope", "x").gone());
  EXPECT_TRUE(api.delete_connection("nope").gone());
  EXPECT_TRUE(api.post_to_connection("abc/def+ghi=====", "x").ok());
  EXPECT_TRUE(api.get_connection("abc/def+ghi=====", &d).ok());
  EXPECT_EQ(d.source_ip, "127.0.0.1");
}

}  // namespace
}  // namespace apigw::emulator
