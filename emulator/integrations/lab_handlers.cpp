#include "emulator/integrations/lab_handlers.hpp"

#include <stdexcept>
#include <string>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "apigw/handler_registry.hpp"

namespace apigw::emulator {
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
std::string describe(const dynamo_result& r) {
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
  // A table call is SQLite under the store's one mutex, and with --store FILE a disk write: it
  // runs on the worker pool, so that no I/O thread (and no other connection) waits for it.
  bool may_block() const override { return true; }

 protected:
  std::string table_;
};

// $connect and $disconnect: one DynamoDB call on the connection's own item.
class item_handler final : public table_handler {
 public:
  struct action {
    const char* operation;  // "PutItem" or "DeleteItem"
    const char* member;     // "Item" or "Key"
    const char* done;       // the body on success
    const char* failed;     // the body's prefix on failure
  };
  static constexpr action connect{"PutItem", "Item", "Connected.", "Failed to connect: "};
  static constexpr action disconnect{"DeleteItem", "Key", "Disconnected.", "Failed to disconnect: "};

  item_handler(std::string table, const action& a) : table_handler(std::move(table)), action_(a) {}

  handler_result invoke(const rapidjson::Value& event, invocation_context& context) override {
    const auto request = key_request(table_, action_.member, connection_id(event));
    const auto r = context.tables().call(action_.operation, request);
    if (!r.ok()) {
      context.log_error(action_.failed + describe(r));
      return answer(500, action_.failed + describe(r));
    }
    return answer(200, action_.done);
  }

 private:
  const action& action_;
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
    message.Parse<rapidjson::kParseIterativeFlag>(body.GetString(), body.GetStringLength());
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
      if (id_member == item.MemberEnd() || !id_member->value.IsObject()) continue;
      const auto s_member = id_member->value.FindMember("S");
      if (s_member == id_member->value.MemberEnd() || !s_member->value.IsString()) continue;
      const auto& s = s_member->value;
      const std::string_view id(s.GetString(), s.GetStringLength());
      const auto posted = context.connections().post_to_connection(id, data);
      if (posted.ok()) continue;
      if (posted.gone()) {
        context.log("Found stale connection, deleting " + std::string(id));
        const auto del = key_request(table_, "Key", std::string(id));
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

// Options: {"tableName": NAME}; BUILD makes the handler for the table.
template <class Build>
create_result make(const rapidjson::Value& options, Build build) {
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
  return build(std::move(table));
}

}  // namespace

void add_lab_handlers(handler_registry& registry) {
  registry.add("simplechat-onconnect", [](const rapidjson::Value& options) {
    return make(options, [](std::string t) { return std::make_unique<item_handler>(std::move(t), item_handler::connect); });
  });
  registry.add("simplechat-ondisconnect", [](const rapidjson::Value& options) {
    return make(options, [](std::string t) { return std::make_unique<item_handler>(std::move(t), item_handler::disconnect); });
  });
  registry.add("simplechat-sendmessage", [](const rapidjson::Value& options) {
    return make(options, [](std::string t) { return std::make_unique<send_message>(std::move(t)); });
  });
}

}  // namespace apigw::emulator
