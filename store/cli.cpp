#include "store/cli.hpp"

#include <filesystem>
#include <system_error>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::store {
namespace {

namespace rj = rapidjson;

void print(std::ostream& out, const rj::Value& v) {
  rj::StringBuffer buf;
  rj::Writer<rj::StringBuffer> w(buf);
  v.Accept(w);
  out << std::string_view(buf.GetString(), buf.GetSize()) << '\n';
}

void print_error(std::ostream& err, const dynamo_error& e) { err << e.type << ": " << e.message << '\n'; }

rj::Value string_value(std::string_view s, rj::Document::AllocatorType& alloc) {
  return rj::Value(s.data(), static_cast<rj::SizeType>(s.size()), alloc);
}

// True when the store holds TABLE; otherwise says so on ERR, naming the tables there are, as
// DynamoDB's "Requested resource not found" would not.
bool has_table(session_store& store, std::string_view command, const std::string& table, std::ostream& err) {
  const std::vector<table_schema> tables = store.tables();
  for (const table_schema& t : tables) {
    if (t.name == table) return true;
  }
  err << "store " << command << ": no table named \"" << table << "\"";
  if (tables.empty()) {
    err << "; the store has no tables\n";
    return false;
  }
  err << "; the tables are ";
  for (std::size_t i = 0; i < tables.size(); ++i) err << (i == 0 ? "" : ", ") << tables[i].name;
  err << '\n';
  return false;
}

int scan_all(session_store& store, const std::string& table, std::ostream& out, std::ostream& err) {
  if (!has_table(store, "scan", table, err)) return 1;
  rj::Document request;
  request.SetObject();
  auto& alloc = request.GetAllocator();
  request.AddMember("TableName", string_value(table, alloc), alloc);
  // Page by page, as a DynamoDB client would, so that a big table never sits in memory at once.
  while (true) {
    dynamo_result r = store.scan(request);
    if (!r.ok()) {
      print_error(err, r.error());
      return 1;
    }
    for (const rj::Value& item : r.body()["Items"].GetArray()) print(out, item);
    auto last = r.body().FindMember("LastEvaluatedKey");
    if (last == r.body().MemberEnd()) return 0;
    request.RemoveMember("ExclusiveStartKey");
    request.AddMember("ExclusiveStartKey", rj::Value(last->value, alloc), alloc);
  }
}

int get_one(session_store& store, const std::string& table, const std::string& key_json, std::ostream& out,
            std::ostream& err) {
  if (!has_table(store, "get", table, err)) return 1;
  rj::Document request;
  request.SetObject();
  auto& alloc = request.GetAllocator();
  rj::Document key(&alloc);
  key.Parse<rapidjson::kParseIterativeFlag>(key_json.c_str(), key_json.size());
  if (key.HasParseError() || !key.IsObject()) {
    err << "store get: KEYJSON must be a JSON object such as {\"connectionId\": {\"S\": \"abc=\"}}, found: "
        << key_json << '\n';
    return 2;
  }
  rj::Value key_value;
  key_value.Swap(key);
  request.AddMember("TableName", string_value(table, alloc), alloc);
  request.AddMember("Key", key_value, alloc);
  dynamo_result r = store.get_item(request);
  if (!r.ok()) {
    print_error(err, r.error());
    return 1;
  }
  auto item = r.body().FindMember("Item");
  if (item == r.body().MemberEnd()) {
    err << "store get: table " << table << " has no item with the key " << key_json << '\n';
    return 1;
  }
  print(out, item->value);
  return 0;
}

}  // namespace

result<std::unique_ptr<session_store>> open_store_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return fail("there is no file " + path + "; the emulator creates it when started with --store " + path +
                " (apigw-ws-emulator --store " + path +
                "), and the store commands read it while that emulator runs or after it stops");
  }
  if (ec) return fail("cannot read " + path + ": " + ec.message());
  if (status.type() == fs::file_type::directory) return fail(path + " is a directory, not a store file");
  if (status.type() != fs::file_type::regular) return fail(path + " is not a store file");
  session_store::options options;
  options.path = path;
  options.keep_connection_records = true;
  return session_store::open(options, {});
}

std::string_view store_command_usage() {
  return "usage: store scan TABLE | store get TABLE KEYJSON | store tables | store connections\n"
         "  scan TABLE         print every item of TABLE as DynamoDB JSON, one per line, in key order\n"
         "  get TABLE KEYJSON  print the item whose key is KEYJSON, e.g. '{\"connectionId\": {\"S\": \"abc=\"}}'\n"
         "  tables             print each table's TableName, KeySchema and AttributeDefinitions\n"
         "  connections        print the connection records (id, connectedAt, lastActiveAt, ...)\n";
}

int run_store_command(const std::vector<std::string>& args, session_store& store, std::ostream& out,
                      std::ostream& err) {
  if (args.size() == 2 && args[0] == "scan") return scan_all(store, args[1], out, err);
  if (args.size() == 3 && args[0] == "get") return get_one(store, args[1], args[2], out, err);
  if (args.size() == 1 && args[0] == "tables") {
    for (const table_schema& t : store.tables()) out << to_create_table_json(t) << '\n';
    return 0;
  }
  if (args.size() == 1 && args[0] == "connections") {
    auto list = store.list_connections();
    if (!list) {
      err << "store connections: " << list.error() << '\n';
      return 1;
    }
    for (const connection_record& c : *list) {
      rj::Document d;
      d.SetObject();
      auto& alloc = d.GetAllocator();
      d.AddMember("connectionId", string_value(c.id, alloc), alloc);
      d.AddMember("connectedAt", rj::Value(static_cast<int64_t>(c.connected_at)), alloc);
      d.AddMember("lastActiveAt", rj::Value(static_cast<int64_t>(c.last_active_at)), alloc);
      d.AddMember("sourceIp", string_value(c.source_ip, alloc), alloc);
      d.AddMember("userAgent", string_value(c.user_agent, alloc), alloc);
      if (c.authorizer) {
        rj::Document a(&alloc);
        a.Parse(c.authorizer->c_str(), c.authorizer->size());
        rj::Value v;
        if (a.HasParseError()) {
          v = string_value(*c.authorizer, alloc);
        } else {
          v.Swap(a);
        }
        d.AddMember("authorizer", v, alloc);
      }
      print(out, d);
    }
    return 0;
  }
  err << store_command_usage();
  return 2;
}

}  // namespace apigw::store
