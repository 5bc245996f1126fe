// The AWS sample "simple-websockets-chat-app" as C++ handlers: onconnect stores the connection id
// in a table, ondisconnect removes it, sendmessage posts the message's "data" to every stored
// connection and forgets the ones that are gone.
// Thread-safety: the handlers keep no state besides the table name, so any number of calls may
// run at once.
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <apigw/plugin.hpp>

namespace {

apigw::handler_result reply(int status, std::string body) {
  apigw::handler_result r;
  r.status_code = status;
  r.body = std::move(body);
  return r;
}

std::string connection_id(const rapidjson::Value& event) {
  return event["requestContext"]["connectionId"].GetString();
}

// {"TableName": TABLE, MEMBER: {"connectionId": {"S": ID}}}
rapidjson::Document item_request(const std::string& table, const char* member, const std::string& id) {
  rapidjson::Document request(rapidjson::kObjectType);
  auto& a = request.GetAllocator();
  rapidjson::Value s(rapidjson::kObjectType);
  s.AddMember("S", rapidjson::Value(id.c_str(), a), a);
  rapidjson::Value key(rapidjson::kObjectType);
  key.AddMember("connectionId", s, a);
  request.AddMember("TableName", rapidjson::Value(table.c_str(), a), a);
  request.AddMember(rapidjson::StringRef(member), key, a);
  return request;
}

std::string describe(const apigw::dynamo_result& r) { return r.error().type + ": " + r.error().message; }

// "options": {"tableName": "..."}; the default is the sample's table.
std::string table_name(const rapidjson::Value& options) {
  auto t = options.FindMember("tableName");
  if (t != options.MemberEnd() && t->value.IsString()) return t->value.GetString();
  return "simplechat_connections";
}

class on_connect final : public apigw::handler {
 public:
  explicit on_connect(std::string table) : table_(std::move(table)) {}
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    auto r = context.tables().call("PutItem", item_request(table_, "Item", connection_id(event)));
    if (!r.ok()) return reply(500, "Failed to connect: " + describe(r));
    return reply(200, "Connected.");
  }
  bool may_block() const override { return false; }  // the table answers in microseconds

 private:
  std::string table_;
};

class on_disconnect final : public apigw::handler {
 public:
  explicit on_disconnect(std::string table) : table_(std::move(table)) {}
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    auto r = context.tables().call("DeleteItem", item_request(table_, "Key", connection_id(event)));
    if (!r.ok()) return reply(500, "Failed to disconnect: " + describe(r));
    return reply(200, "Disconnected.");
  }
  bool may_block() const override { return false; }

 private:
  std::string table_;
};

class send_message final : public apigw::handler {
 public:
  explicit send_message(std::string table) : table_(std::move(table)) {}
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    rapidjson::Document scan(rapidjson::kObjectType);
    scan.AddMember("TableName", rapidjson::Value(table_.c_str(), scan.GetAllocator()), scan.GetAllocator());
    auto connections = context.tables().call("Scan", scan);
    if (!connections.ok()) return reply(500, describe(connections));

    // JSON.parse(event.body).data; a body that is not JSON fails the function (the client gets
    // the "Internal server error" frame), as in the Node.js sample.
    rapidjson::Document message;
    message.Parse(event["body"].GetString());
    if (message.HasParseError() || !message.IsObject()) throw std::runtime_error("the body is not a JSON object");
    std::string data;
    if (auto d = message.FindMember("data"); d != message.MemberEnd()) {
      if (d->value.IsString()) {
        data = d->value.GetString();
      } else {
        rapidjson::StringBuffer text;
        rapidjson::Writer<rapidjson::StringBuffer> writer(text);
        d->value.Accept(writer);
        data = text.GetString();
      }
    }

    for (const auto& item : connections.body()["Items"].GetArray()) {
      const std::string id = item["connectionId"]["S"].GetString();
      auto posted = context.connections().post_to_connection(id, data);
      if (posted.gone()) {
        context.log("Found stale connection, deleting " + id);
        context.tables().call("DeleteItem", item_request(table_, "Key", id));
      } else if (!posted.ok()) {
        return reply(500, posted.error_type + ": " + posted.message);
      }
    }
    return reply(200, "Data sent.");
  }
  bool may_block() const override { return false; }

 private:
  std::string table_;
};

// A factory per handler: the integration's options pick the table.
template <class Handler>
apigw::handler_factory factory() {
  return [](const rapidjson::Value& options) -> std::variant<std::unique_ptr<apigw::handler>, std::string> {
    auto t = options.FindMember("tableName");
    if (t != options.MemberEnd() && !t->value.IsString()) return std::string("options.tableName: expected a string");
    return std::make_unique<Handler>(table_name(options));
  };
}

}  // namespace

APIGW_PLUGIN(registrar) {
  registrar.add("onconnect", factory<on_connect>());
  registrar.add("ondisconnect", factory<on_disconnect>());
  registrar.add("sendmessage", factory<send_message>());
}
