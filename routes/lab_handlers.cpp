#include "routes/lab_handlers.hpp"

#include <stdexcept>
#include <string>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "routes/handler_registry.hpp"

namespace apigw::routes {
namespace {

using create_result = std::variant<std::unique_ptr<handler>, std::string>;

std::string connection_id(const rapidjson::Value& event) {
  const auto& ctx = event["requestContext"];
  return std::string(ctx["connectionId"].GetString(), ctx["connectionId"].GetStringLength());
}

// The DynamoDB request {"TableName": T, "Key"|"Item": {"connectionId": {"S": id}}}.
rapidjson::Document key_request(const std::string& table, const char* member, const std::string& id) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value key(rapidjson::kObjectType);
  rapidjson::Value s(rapidjson::kObjectType);
  s.AddMember("S", rapidjson::Value(id.c_str(), a), a);
  key.AddMember("connectionId", s, a);
  d.AddMember("TableName", rapidjson::Value(table.c_str(), a), a);
  d.AddMember(rapidjson::StringRef(member), key, a);
  return d;
}

// The sample's error bodies print the AWS SDK error: its code and message.
std::string describe(const store::dynamo_result& r) {
  return r.error().type + ": " + r.error().message;
}

handler_result answer(int status, std::string body) {
  handler_result r;
  r.status_code = status;
  r.body = std::move(body);
  return r;
}

class table_handler : public handler {
 public:
  explicit table_handler(std::string table) : table_(std::move(table)) {}
  // The store answers in microseconds: no need for a worker thread.
  bool may_block() const override { return false; }

 protected:
  std::string table_;
};

class on_connect final : public table_handler {
 public:
  using table_handler::table_handler;
  handler_result invoke(const rapidjson::Value& event, invocation_context& context) override {
    const auto put = key_request(table_, "Item", connection_id(event));
    const auto r = context.tables().call("PutItem", put);
    if (!r.ok()) {
      context.log_error("Failed to connect: " + describe(r));
      return answer(500, "Failed to connect: " + describe(r));
    }
    return answer(200, "Connected.");
  }
};

class on_disconnect final : public table_handler {
 public:
  using table_handler::table_handler;
  handler_result invoke(const rapidjson::Value& event, invocation_context& context) override {
    const auto del = key_request(table_, "Key", connection_id(event));
    const auto r = context.tables().call("DeleteItem", del);
    if (!r.ok()) {
      context.log_error("Failed to disconnect: " + describe(r));
      return answer(500, "Failed to disconnect: " + describe(r));
    }
    return answer(200, "Disconnected.");
  }
};

class send_message final : public table_handler {
 public:
  using table_handler::table_handler;
  handler_result invoke(const rapidjson::Value& event, invocation_context& context) override {
    rapidjson::Document scan(rapidjson::kObjectType);
    scan.AddMember("TableName", rapidjson::StringRef(table_.c_str()), scan.GetAllocator());
    scan.AddMember("ProjectionExpression", "connectionId", scan.GetAllocator());
    const auto items = context.tables().call("Scan", scan);
    if (!items.ok()) {
      context.log_error(describe(items));
      return answer(500, describe(items));
    }

    // JSON.parse(event.body).data: a body that is not JSON makes the function fail, as in Node.
    const auto& body = event["body"];
    rapidjson::Document message;
    message.Parse(body.GetString(), body.GetStringLength());
    if (message.HasParseError() || !message.IsObject()) {
      throw std::runtime_error("SyntaxError: Unexpected token in JSON at position " +
                               std::to_string(message.GetErrorOffset()));
    }
    std::string data;
    if (auto d = message.FindMember("data"); d != message.MemberEnd()) {
      if (d->value.IsString()) {
        data.assign(d->value.GetString(), d->value.GetStringLength());
      } else {
        rapidjson::StringBuffer text;
        rapidjson::Writer<rapidjson::StringBuffer> writer(text);
        d->value.Accept(writer);
        data.assign(text.GetString(), text.GetSize());
      }
    }

    // Every post is tried; a Gone id is stale and deleted; any other failure fails the function
    // once all posts are done (Promise.all), with the first error.
    std::string failure;
    for (const auto& item : items.body()["Items"].GetArray()) {
      auto id_member = item.FindMember("connectionId");
      if (id_member == item.MemberEnd() || !id_member->value.IsObject() || !id_member->value.HasMember("S")) continue;
      const std::string id = id_member->value["S"].GetString();
      const auto posted = context.connections().post_to_connection(id, data);
      if (posted.ok()) continue;
      if (posted.gone()) {
        context.log("Found stale connection, deleting " + id);
        const auto del = key_request(table_, "Key", id);
        const auto r = context.tables().call("DeleteItem", del);
        if (!r.ok() && failure.empty()) failure = describe(r);
        continue;
      }
      if (failure.empty()) failure = posted.error_type + ": " + posted.message;
    }
    if (!failure.empty()) {
      context.log_error(failure);
      return answer(500, failure);
    }
    return answer(200, "Data sent.");
  }
};

template <class Handler>
create_result make(const rapidjson::Value& options) {
  std::string table = "simplechat_connections";
  for (auto m = options.MemberBegin(); m != options.MemberEnd(); ++m) {
    if (std::string_view(m->name.GetString()) != "tableName") {
      return "options." + std::string(m->name.GetString()) + ": unknown option; allowed: tableName";
    }
    if (!m->value.IsString() || m->value.GetStringLength() == 0) {
      return std::string("options.tableName: expected the name of a declared table");
    }
    table = m->value.GetString();
  }
  return std::make_unique<Handler>(std::move(table));
}

}  // namespace

void add_lab_handlers(handler_registry& registry) {
  registry.add("simplechat-onconnect", make<on_connect>);
  registry.add("simplechat-ondisconnect", make<on_disconnect>);
  registry.add("simplechat-sendmessage", make<send_message>);
}

}  // namespace apigw::routes
