#include "store/dynamo_result.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::store {

std::string dynamo_error::to_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  std::string full_type = "com.amazonaws.dynamodb.v20120810#" + type;
  w.StartObject();
  w.Key("__type");
  w.String(full_type.c_str(), static_cast<rapidjson::SizeType>(full_type.size()));
  w.Key("message");
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return buf.GetString();
}

dynamo_result::dynamo_result() { body_.SetObject(); }

dynamo_result::dynamo_result(std::string_view type, std::string message)
    : error_(dynamo_error{std::string(type), std::move(message)}) {
  body_.SetObject();
}

std::string dynamo_result::to_json() const {
  if (error_) return error_->to_json();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  body_.Accept(w);
  return buf.GetString();
}

}  // namespace apigw::store
