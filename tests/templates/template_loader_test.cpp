// The template loader, table by table: what each intrinsic function evaluates to, what each
// resource type becomes in the configuration, and the message for each mistake (file, line,
// column, logical id and property path, what is allowed). End-to-end runs of templates with real
// functions are in tests/functions/lab_functions_test.cpp.
#include "templates/template_loader.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/writer.h>

#include "config/config_loader.hpp"

namespace apigw::templates {
namespace {

namespace fs = std::filesystem;

// A folder with a function's code in src/, removed at the end.
class code_folder {
 public:
  code_folder() {
    std::string pattern = (fs::temp_directory_path() / "apigw-template-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    fs::create_directories(dir_ / "src");
    std::ofstream(dir_ / "src" / "app.mjs") << "export const handler = async () => ({statusCode: 200});\n";
  }
  ~code_folder() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  code_folder(const code_folder&) = delete;
  code_folder& operator=(const code_folder&) = delete;
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

// A WebSocket API with one route to a Node.js function; NAME is the API's Name (YAML), EXTRA is
// added under Resources, TOP before Resources.
std::string chat_template(const std::string& name = "chat", const std::string& extra = "",
                          const std::string& top = "") {
  return "AWSTemplateFormatVersion: '2010-09-09'\n"
         "Transform: AWS::Serverless-2016-10-31\n" +
         top +
         "Resources:\n"
         "  Api:\n"
         "    Type: AWS::ApiGatewayV2::Api\n"
         "    Properties:\n"
         "      Name: " + name + "\n"
         "      ProtocolType: WEBSOCKET\n"
         "      RouteSelectionExpression: $request.body.action\n"
         "  Route:\n"
         "    Type: AWS::ApiGatewayV2::Route\n"
         "    Properties:\n"
         "      ApiId: !Ref Api\n"
         "      RouteKey: $default\n"
         "      Target: !Join [/, [integrations, !Ref Integ]]\n"
         "  Integ:\n"
         "    Type: AWS::ApiGatewayV2::Integration\n"
         "    Properties:\n"
         "      ApiId: !Ref Api\n"
         "      IntegrationType: AWS_PROXY\n"
         "      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations\n"
         "  Stage:\n"
         "    Type: AWS::ApiGatewayV2::Stage\n"
         "    Properties:\n"
         "      ApiId: !Ref Api\n"
         "      StageName: dev\n"
         "  Fn:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties:\n"
         "      CodeUri: src/\n"
         "      Handler: app.handler\n"
         "      Runtime: nodejs20.x\n" +
         extra;
}

struct translation {
  std::string error;
  rapidjson::Document config;
  translated_template result;
};

translation translate(const std::string& yaml, std::vector<std::pair<std::string, std::string>> overrides = {},
                      template_options options = {}) {
  code_folder code;
  options.parameter_overrides = std::move(overrides);
  if (options.stack_name.empty()) options.stack_name = "teststack";
  translation t;
  auto translated = translate_template_text(yaml, "t.yaml", code.path(), options);
  if (!translated) {
    t.error = translated.error();
    return t;
  }
  // What the emulator loads must load.
  auto loaded = config::load_text(translated->config_json, "t.yaml");
  if (!loaded) {
    t.error = "the configuration does not load: " + loaded.error() + "\n" + translated->config_json;
    return t;
  }
  t.config.Parse(translated->config_json.c_str());
  t.result = *std::move(translated);
  return t;
}

std::string at(const rapidjson::Document& d, const char* pointer) {
  const rapidjson::Value* v = rapidjson::Pointer(pointer).Get(d);
  if (v == nullptr) return "<none>";
  if (v->IsString()) return v->GetString();
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v->Accept(w);
  return b.GetString();
}

// ---- intrinsic functions -------------------------------------------------------------------

struct intrinsic_row {
  std::string name_yaml;  // the API's Name
  std::string expected;
};

TEST(TemplateIntrinsicsTest, EachFunctionEvaluatesAsCloudFormationDoes) {
  const std::string top =
      "Parameters:\n"
      "  Env: {Type: String, Default: dev}\n"
      "  Zones: {Type: CommaDelimitedList, Default: 'a, b ,c'}\n"
      "  Size: {Type: Number, Default: 3}\n"
      "Mappings:\n"
      "  Names:\n"
      "    dev: {Api: dev-chat}\n"
      "    prod: {Api: chat}\n"
      "Conditions:\n"
      "  IsProd: !Equals [!Ref Env, prod]\n"
      "  IsDev: !Not [Condition: IsProd]\n"
      "  Both: !And [Condition: IsDev, !Equals [x, x]]\n"
      "  Either: !Or [Condition: IsProd, !Equals [!Ref Size, '4']]\n";
  const std::vector<intrinsic_row> rows = {
      {"!Ref Env", "dev"},
      {"!Ref AWS::Region", "us-east-1"},
      {"!Ref AWS::AccountId", "123456789012"},
      {"!Ref AWS::StackName", "teststack"},
      {"!Sub '${AWS::StackName}-chat'", "teststack-chat"},
      {"!Sub ['${A}-${B}', {A: x, B: !Ref Env}]", "x-dev"},
      {"!Sub 'a${!Literal}b'", "a${Literal}b"},
      {"!Sub '${Api.ApiId}'", "<cycle>"},
      {"!Join ['-', [a, !Ref Env, b]]", "a-dev-b"},
      {"!Join ['', []]", "<empty>"},
      {"!Join [',', !Ref Zones]", "a,b,c"},
      {"!Select [1, [x, y, z]]", "y"},
      {"!Select [2, !Ref Zones]", "c"},
      {"!Select [0, !Split [',', 'p,q']]", "p"},
      {"!Select [1, !Split [',', 'p,']]", "<empty>"},
      {"!If [IsProd, prod, other]", "other"},
      {"!If [IsDev, !Ref Env, !Ref 'AWS::NoValue']", "dev"},
      {"!If [Both, yes, no]", "yes"},
      {"!If [Either, yes, no]", "no"},
      {"!FindInMap [Names, !Ref Env, Api]", "dev-chat"},
      {"!Base64 hi", "aGk="},
      {"!Select [0, !GetAZs '']", "us-east-1a"},
      {"{'Fn::Join': ['', [{Ref: 'AWS::Partition'}, ':', {Ref: 'AWS::URLSuffix'}]]}", "aws:amazonaws.com"},
      {"!Sub '${Size}'", "3"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name_yaml);
    const auto t = translate(chat_template(row.name_yaml, "", top));
    if (row.expected == "<cycle>") {
      // The API's name needs its own id, which needs its name.
      EXPECT_NE(t.error.find("Circular dependency between resources: [Api]"), std::string::npos) << t.error;
      continue;
    }
    if (row.expected == "<empty>") {
      // An empty Name is the config's own error: the API's name must not be empty.
      EXPECT_NE(t.error.find("name"), std::string::npos) << t.error;
      continue;
    }
    ASSERT_EQ(t.error, "");
    EXPECT_EQ(at(t.config, "/name"), row.expected);
  }
}

TEST(TemplateIntrinsicsTest, NoValueRemovesTheMemberOrItemThatHoldsIt) {
  const auto t = translate(chat_template(
      "chat",
      "      Environment:\n"
      "        Variables:\n"
      "          KEEP: kept\n"
      "          DROP: !Ref AWS::NoValue\n"
      "      MemorySize: !If [Never, 512, !Ref 'AWS::NoValue']\n",
      "Conditions:\n  Never: !Equals [a, b]\n"));
  ASSERT_EQ(t.error, "");
  EXPECT_EQ(at(t.config, "/integrations/Fn/environment"), R"({"KEEP":"kept"})");
  EXPECT_EQ(at(t.config, "/integrations/Fn/memorySize"), "<none>");
}

// ---- resources -----------------------------------------------------------------------------

TEST(TemplateResourcesTest, TheApiItsRouteFunctionAndStageBecomeTheConfiguration) {
  const auto t = translate(chat_template("chat"));
  ASSERT_EQ(t.error, "");
  EXPECT_EQ(at(t.config, "/name"), "chat");
  EXPECT_EQ(at(t.config, "/apiId"), config::derive_api_id("chat"));
  EXPECT_EQ(at(t.config, "/routeSelectionExpression"), "$request.body.action");
  EXPECT_EQ(at(t.config, "/stage/name"), "dev");
  EXPECT_EQ(at(t.config, "/routes"), R"([{"routeKey":"$default","integration":"Fn"}])");
  EXPECT_EQ(at(t.config, "/integrations/Fn/type"), "lambda");
  EXPECT_EQ(at(t.config, "/integrations/Fn/runtime"), "nodejs20.x");
  EXPECT_EQ(at(t.config, "/integrations/Fn/handler"), "app.handler");
  EXPECT_TRUE(at(t.config, "/integrations/Fn/codeUri").ends_with("/src")) << at(t.config, "/integrations/Fn/codeUri");
  // SAM gives every function's role AWSLambdaBasicExecutionRole.
  EXPECT_EQ(at(t.config, "/integrations/Fn/policy"),
            R"({"Version":"2012-10-17","Statement":[{"Sid":"AWSLambdaBasicExecutionRole","Effect":"Allow",)"
            R"("Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]})");
  EXPECT_EQ(t.result.api_endpoint, "wss://" + config::derive_api_id("chat") + ".execute-api.us-east-1.amazonaws.com");
  EXPECT_EQ(t.result.stage_name, "dev");
}

TEST(TemplateResourcesTest, GlobalsFunctionAppliesToEveryFunctionAndItsOwnPropertiesWin) {
  const std::string yaml =
      "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
      "Globals:\n  Function:\n    Runtime: python3.12\n    Timeout: 10\n    MemorySize: 512\n"
      "    Environment:\n      Variables: {AA: global, BB: global}\n" +
      chat_template("chat",
                    "      Timeout: 20\n      Environment:\n        Variables: {BB: own, CC: own}\n")
          .substr(std::string_view("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n").size());
  const auto t = translate(yaml);
  ASSERT_EQ(t.error, "");
  EXPECT_EQ(at(t.config, "/integrations/Fn/runtime"), "nodejs20.x");  // its own
  EXPECT_EQ(at(t.config, "/integrations/Fn/timeout"), "20");
  EXPECT_EQ(at(t.config, "/integrations/Fn/memorySize"), "512");      // the global
  EXPECT_EQ(at(t.config, "/integrations/Fn/environment"), R"({"BB":"own","CC":"own","AA":"global"})");
}

TEST(TemplateResourcesTest, PolicyTemplatesManagedPoliciesAndInlineStatementsMakeTheFunctionsPolicy) {
  const auto t = translate(chat_template(
      "chat",
      "      Policies:\n"
      "        - DynamoDBReadPolicy: {TableName: !Ref Table}\n"
      "        - DynamoDBWritePolicy: {TableName: rooms}\n"
      "        - LambdaInvokePolicy: {FunctionName: other}\n"
      "        - AmazonAPIGatewayInvokeFullAccess\n"
      "        - Statement:\n"
      "            - Effect: Allow\n"
      "              Action: execute-api:ManageConnections\n"
      "              Resource: !Sub arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*\n"
      "  Table:\n"
      "    Type: AWS::Serverless::SimpleTable\n"
      "    Properties: {TableName: chat_rooms}\n"));
  ASSERT_EQ(t.error, "");
  rapidjson::Document policy;
  policy.Parse(at(t.config, "/integrations/Fn/policy").c_str());
  ASSERT_EQ(policy["Statement"].Size(), 6u);
  EXPECT_EQ(at(policy, "/Statement/1/Sid"), "DynamoDBReadPolicy");
  EXPECT_EQ(at(policy, "/Statement/1/Action"),
            R"(["dynamodb:GetItem","dynamodb:Scan","dynamodb:Query","dynamodb:BatchGetItem","dynamodb:DescribeTable"])");
  EXPECT_EQ(at(policy, "/Statement/1/Resource"),
            R"(["arn:aws:dynamodb:us-east-1:123456789012:table/chat_rooms",)"
            R"("arn:aws:dynamodb:us-east-1:123456789012:table/chat_rooms/index/*"])");
  EXPECT_EQ(at(policy, "/Statement/2/Action"), R"(["dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:BatchWriteItem"])");
  EXPECT_EQ(at(policy, "/Statement/3/Resource"), R"(["arn:aws:lambda:us-east-1:123456789012:function:other*"])");
  EXPECT_EQ(at(policy, "/Statement/4/Action"), R"(["execute-api:Invoke","execute-api:ManageConnections"])");
  EXPECT_EQ(at(policy, "/Statement/5/Resource"),
            "arn:aws:execute-api:us-east-1:123456789012:" + config::derive_api_id("chat") + "/*");
}

// Layers: SAM's and Lambda's layer versions, by their Ref (the version's ARN), Globals' layers
// first; a layer from elsewhere is listed as not emulated.
TEST(TemplateResourcesTest, LayersOfTheTemplateBecomeTheFunctionsLayerFolders) {
  const std::string yaml =
      "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
      "Globals:\n  Function:\n    Layers: [!Ref Shared]\n" +
      chat_template("chat",
                    "      Layers:\n"
                    "        - !GetAtt Own.LayerVersionArn\n"
                    "        - arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:38\n"
                    "  Shared:\n"
                    "    Type: AWS::Serverless::LayerVersion\n"
                    "    Properties: {LayerName: shared, ContentUri: src/}\n"
                    "  Own:\n"
                    "    Type: AWS::Lambda::LayerVersion\n"
                    "    Properties: {Content: ., CompatibleRuntimes: [nodejs20.x]}\n"
                    "Outputs:\n"
                    "  SharedArn: {Value: !Ref Shared}\n")
          .substr(std::string_view("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n").size());
  code_folder code;
  auto translated = translate_template_text(yaml, "t.yaml", code.path(), {});
  ASSERT_TRUE(translated) << translated.error();
  rapidjson::Document config;
  config.Parse(translated->config_json.c_str());
  EXPECT_EQ(at(config, "/integrations/Fn/layers"),
            "[\"" + (code.path() / "src").string() + "\",\"" + code.path().string() + "\"]");
  EXPECT_EQ(translated->outputs[0].value, "arn:aws:lambda:us-east-1:123456789012:layer:shared:1");
  EXPECT_EQ(translated->not_emulated,
            (std::vector<std::string>{"Fn.Layers: arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:38 "
                                      "(not a layer of this template, so its content is not here)"}));
  ASSERT_TRUE(config::load_text(translated->config_json, "t.yaml"));
}

TEST(TemplateResourcesTest, ARoleOfTheTemplateGivesItsPoliciesToTheFunction) {
  const std::string yaml = chat_template(
      "chat",
      "  Plain:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      Code: src\n"
      "      Handler: app.handler\n"
      "      Runtime: nodejs20.x\n"
      "      Role: !GetAtt PlainRole.Arn\n"
      "  PlainRole:\n"
      "    Type: AWS::IAM::Role\n"
      "    Properties:\n"
      "      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]\n"
      "      Policies:\n"
      "        - PolicyName: table\n"
      "          PolicyDocument:\n"
      "            Statement: [{Effect: Allow, Action: 'dynamodb:*', Resource: '*'}]\n"
      "  PlainRoute:\n"
      "    Type: AWS::ApiGatewayV2::Route\n"
      "    Properties: {ApiId: !Ref Api, RouteKey: plain, Target: !Sub 'integrations/${PlainInteg}'}\n"
      "  PlainInteg:\n"
      "    Type: AWS::ApiGatewayV2::Integration\n"
      "    Properties: {ApiId: !Ref Api, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Plain.Arn}\n");
  const auto t = translate(yaml);
  ASSERT_EQ(t.error, "");
  EXPECT_EQ(at(t.config, "/routes/1"), R"({"routeKey":"plain","integration":"Plain"})");
  rapidjson::Document policy;
  policy.Parse(at(t.config, "/integrations/Plain/policy").c_str());
  ASSERT_EQ(policy["Statement"].Size(), 2u);
  EXPECT_EQ(at(policy, "/Statement/0/Sid"), "AWSLambdaBasicExecutionRole");
  EXPECT_EQ(at(policy, "/Statement/1"), R"({"Effect":"Allow","Action":"dynamodb:*","Resource":"*"})");
}

TEST(TemplateResourcesTest, TablesKeepCreateTablesShapeAndSimpleTablesGetSamsDefaults) {
  const auto t = translate(chat_template(
      "chat",
      "  Messages:\n"
      "    Type: AWS::DynamoDB::Table\n"
      "    Properties:\n"
      "      TableName: !Sub ${AWS::StackName}-messages\n"
      "      BillingMode: PAY_PER_REQUEST\n"
      "      AttributeDefinitions: [{AttributeName: room, AttributeType: S}, {AttributeName: at, AttributeType: N}]\n"
      "      KeySchema: [{AttributeName: room, KeyType: HASH}, {AttributeName: at, KeyType: RANGE}]\n"
      "      TimeToLiveSpecification: {AttributeName: expires, Enabled: true}\n"
      "      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n"
      "  Simple:\n"
      "    Type: AWS::Serverless::SimpleTable\n"
      "  Counted:\n"
      "    Type: AWS::Serverless::SimpleTable\n"
      "    Properties:\n"
      "      PrimaryKey: {Name: n, Type: Number}\n"
      "      ProvisionedThroughput: {ReadCapacityUnits: '2', WriteCapacityUnits: 3}\n"));
  ASSERT_EQ(t.error, "");
  EXPECT_EQ(at(t.config, "/tables/0"),
            R"({"TableName":"Counted","AttributeDefinitions":[{"AttributeName":"n","AttributeType":"N"}],)"
            R"("KeySchema":[{"AttributeName":"n","KeyType":"HASH"}],)"
            R"("ProvisionedThroughput":{"ReadCapacityUnits":2,"WriteCapacityUnits":3}})");
  EXPECT_EQ(at(t.config, "/tables/1"),
            R"({"TableName":"teststack-messages","BillingMode":"PAY_PER_REQUEST",)"
            R"("AttributeDefinitions":[{"AttributeName":"room","AttributeType":"S"},{"AttributeName":"at","AttributeType":"N"}],)"
            R"("KeySchema":[{"AttributeName":"room","KeyType":"HASH"},{"AttributeName":"at","KeyType":"RANGE"}],)"
            R"("TimeToLiveSpecification":{"AttributeName":"expires","Enabled":true}})");
  EXPECT_EQ(at(t.config, "/tables/2"),
            R"({"TableName":"Simple","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],)"
            R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"})");
}

TEST(TemplateResourcesTest, AuthorizersMockIntegrationsAndStageSettingsAreRead) {
  const auto t = translate(chat_template(
      "chat",
      "  Auth:\n"
      "    Type: AWS::ApiGatewayV2::Authorizer\n"
      "    Properties:\n"
      "      ApiId: !Ref Api\n"
      "      Name: auth\n"
      "      AuthorizerType: REQUEST\n"
      "      IdentitySource: [route.request.header.Auth]\n"
      "      AuthorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations\n"
      "  ConnectRoute:\n"
      "    Type: AWS::ApiGatewayV2::Route\n"
      "    Properties:\n"
      "      ApiId: !Ref Api\n"
      "      RouteKey: $connect\n"
      "      AuthorizationType: CUSTOM\n"
      "      AuthorizerId: !Ref Auth\n"
      "      Target: !Join [/, [integrations, !Ref Mock]]\n"
      "  Mock:\n"
      "    Type: AWS::ApiGatewayV2::Integration\n"
      "    Properties: {ApiId: !Ref Api, IntegrationType: MOCK}\n"
      "  Echo:\n"
      "    Type: AWS::ApiGatewayV2::Route\n"
      "    Properties: {ApiId: !Ref Api, RouteKey: echo, RouteResponseSelectionExpression: $default,\n"
      "                 Target: !Join [/, [integrations, !Ref Mock]]}\n"
      "  EchoResponse:\n"
      "    Type: AWS::ApiGatewayV2::RouteResponse\n"
      "    Properties: {ApiId: !Ref Api, RouteId: !Ref Echo, RouteResponseKey: $default}\n"
      "  Deployment:\n"
      "    Type: AWS::ApiGatewayV2::Deployment\n"
      "    DependsOn: [Echo, EchoResponse]\n"
      "    Properties: {ApiId: !Ref Api}\n"
      "  Second:\n"
      "    Type: AWS::ApiGatewayV2::Stage\n"
      "    Properties:\n"
      "      ApiId: !Ref Api\n"
      "      StageName: prod\n"
      "      StageVariables: {table: rooms}\n"
      "      DefaultRouteSettings: {ThrottlingRateLimit: 50, ThrottlingBurstLimit: 10}\n"
      "      AccessLogSettings: {Format: '$context.requestId'}\n"),
      {}, [] {
        template_options o;
        o.stage = "prod";
        return o;
      }());
  ASSERT_EQ(t.error, "");
  EXPECT_EQ(at(t.config, "/authorizers"), R"({"Auth":{"function":"Fn","identitySource":["route.request.header.Auth"]}})");
  EXPECT_EQ(at(t.config, "/routes/1"),
            R"({"routeKey":"$connect","integration":"Mock","authorizationType":"CUSTOM","authorizerId":"Auth"})");
  EXPECT_EQ(at(t.config, "/integrations/Mock"), R"({"type":"builtin","handler":"mock","options":{"statusCode":200}})");
  // A two-way route: its route response selection expression, with its $default route response.
  EXPECT_EQ(at(t.config, "/routes/2"),
            R"({"routeKey":"echo","integration":"Mock","routeResponseSelectionExpression":"$default"})");
  EXPECT_TRUE(t.result.not_emulated.empty()) << t.result.not_emulated.front();
  EXPECT_EQ(at(t.config, "/stage"),
            R"({"name":"prod","variables":{"table":"rooms"},"throttling":{"rateLimit":50.0,"burstLimit":10.0},)"
            R"("accessLogFormat":"$context.requestId"})");
}

// JSON as `cdk synth` writes it: long-form intrinsics, and a function's code in its asset folder.
TEST(TemplateResourcesTest, AJsonTemplateWithACdkAssetIsRead) {
  code_folder code;
  fs::create_directories(code.path() / "asset.1234");
  const std::string json = R"({
  "Resources": {
    "Api": {"Type": "AWS::ApiGatewayV2::Api",
            "Properties": {"Name": "cdk-chat", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}},
    "Route": {"Type": "AWS::ApiGatewayV2::Route",
              "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "$default",
                             "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Integ"}]]}}},
    "Integ": {"Type": "AWS::ApiGatewayV2::Integration",
              "Properties": {"ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY",
                             "IntegrationUri": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:",
                               {"Ref": "AWS::Region"}, ":lambda:path/2015-03-31/functions/", {"Fn::GetAtt": ["Handler", "Arn"]},
                               "/invocations"]]}}},
    "Handler": {"Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Bucket": "cdk-assets", "S3Key": "1234.zip"}, "Handler": "index.handler",
                               "Runtime": "nodejs20.x", "Timeout": "5", "Role": {"Fn::GetAtt": ["HandlerRole", "Arn"]}},
                "Metadata": {"aws:asset:path": "asset.1234"}},
    "HandlerRole": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": [
                      {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}]}},
    "Stage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"ApiId": {"Ref": "Api"}, "StageName": "prod"}}
  }
})";
  auto translated = translate_template_text(json, "cdk.out/Chat.template.json", code.path(), {});
  ASSERT_TRUE(translated) << translated.error();
  rapidjson::Document config;
  config.Parse(translated->config_json.c_str());
  EXPECT_EQ(at(config, "/routes/0/integration"), "Handler");
  EXPECT_EQ(at(config, "/integrations/Handler/codeUri"), (code.path() / "asset.1234").string());
  EXPECT_EQ(at(config, "/integrations/Handler/timeout"), "5");
  EXPECT_EQ(at(config, "/integrations/Handler/policy/Statement/0/Sid"), "AWSLambdaBasicExecutionRole");
  EXPECT_EQ(at(config, "/stage/name"), "prod");
}

TEST(TemplateResourcesTest, OutputsAreEvaluatedAndWhatIsNotEmulatedIsListed) {
  const auto t = translate(chat_template(
      "chat",
      "  Permission:\n"
      "    Type: AWS::Lambda::Permission\n"
      "    Properties: {Action: lambda:InvokeFunction, FunctionName: !Ref Fn, Principal: apigateway.amazonaws.com}\n"
      "  Logs:\n"
      "    Type: AWS::Logs::LogGroup\n"
      "  Http:\n"
      "    Type: AWS::ApiGatewayV2::Api\n"
      "    Properties: {Name: http, ProtocolType: HTTP}\n"
      "Outputs:\n"
      "  Uri:\n"
      "    Description: where clients connect\n"
      "    Value: !Sub ${Api.ApiEndpoint}/${Stage}\n"
      "  Fn:\n"
      "    Value: !GetAtt Fn.Arn\n"
      "  Never:\n"
      "    Condition: No\n"
      "    Value: x\n",
      "Conditions:\n  No: !Equals [a, b]\n"));
  ASSERT_EQ(t.error, "");
  ASSERT_EQ(t.result.outputs.size(), 2u);
  EXPECT_EQ(t.result.outputs[0].name, "Uri");
  EXPECT_EQ(t.result.outputs[0].value, t.result.api_endpoint + "/dev");
  EXPECT_EQ(t.result.outputs[0].description, "where clients connect");
  EXPECT_EQ(t.result.outputs[1].value, "arn:aws:lambda:us-east-1:123456789012:function:Fn");
  EXPECT_EQ(t.result.not_emulated,
            (std::vector<std::string>{"Http (AWS::ApiGatewayV2::Api, ProtocolType HTTP: the emulator serves WebSocket APIs)",
                                      "Logs (AWS::Logs::LogGroup)", "Permission (AWS::Lambda::Permission)"}));
}

// ---- mistakes ------------------------------------------------------------------------------

struct mistake {
  std::string yaml;
  std::string message;  // the whole message
  std::vector<std::pair<std::string, std::string>> overrides = {};
};

TEST(TemplateErrorsTest, EachMistakeNamesWhereItIsAndWhatIsAllowed) {
  const std::string sam = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n";
  const auto body = [&](const std::string& yaml) { return yaml.substr(sam.size()); };
  const std::vector<mistake> rows = {
      {sam + "Resource:\n  X: {Type: AWS::SNS::Topic}\n",
       "t.yaml:4:3: unknown section Resource; a template has AWSTemplateFormatVersion, Description, Metadata, "
       "Parameters, Rules, Mappings, Conditions, Transform, Resources, Outputs, Globals"},
      {chat_template("chat\n      Name: again"), "t.yaml:8:7: duplicate key \"Name\": a key may appear once in a map"},
      {chat_template("[chat"), "t.yaml:8:19: end of sequence flow not found (the template is neither valid YAML nor JSON)"},
      {chat_template("!Reff x"),
       "t.yaml:7:13: unknown tag !Reff; the short forms are !Ref, !Condition, !GetAtt, !Sub, !Join, !Select, !Split, "
       "!If, !Equals, !Not, !And, !Or, !FindInMap, !Base64, !GetAZs, !ImportValue, !Cidr"},
      {chat_template("!Ref Nope"),
       "t.yaml:7:13: Resources.Api.Properties.Name: Ref Nope: unresolved reference, no parameter or resource is "
       "named Nope (parameters: none; resources: Api, Fn, FnRole, Integ, Route, Stage)"},
      {chat_template("!GetAtt Fn.Arnn"),
       "t.yaml:7:13: Resources.Api.Properties.Name: Template error: resource Fn does not support attribute type Arnn "
       "in Fn::GetAtt (AWS::Serverless::Function has Arn)"},
      {chat_template("!ImportValue shared"),
       "t.yaml:7:13: Resources.Api.Properties.Name: Fn::ImportValue is not evaluated by the emulator (it reads Ref, "
       "Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, "
       "Fn::FindInMap, Fn::Base64 and Fn::GetAZs): another stack's exports do not exist here; use a parameter"},
      {chat_template("!Select [3, [a, b]]"),
       "t.yaml:7:13: Resources.Api.Properties.Name.Fn::Select: Fn::Select index 3 is out of bounds: the list has 2 "
       "item(s)"},
      {chat_template("chat", "      Policies: [DynamoDBCrudPolicyy: {TableName: t}]\n"),
       "t.yaml:33:18: Resources.Fn.Properties.Policies[0]: \"DynamoDBCrudPolicyy\" is not a policy template the "
       "emulator knows (DynamoDBCrudPolicy, DynamoDBReadPolicy, DynamoDBWritePolicy, LambdaInvokePolicy); other "
       "permissions go in an inline {Statement: [...]}"},
      {chat_template("chat", "      Policies: AmazonS3FullAccess\n"),
       "t.yaml:33:17: Resources.Fn.Properties.Policies: the managed policy AmazonS3FullAccess is not known to the "
       "emulator (it knows AWSLambdaBasicExecutionRole, AWSLambdaDynamoDBExecutionRole, "
       "AmazonAPIGatewayInvokeFullAccess, AmazonDynamoDBFullAccess; the policy templates DynamoDBCrudPolicy, "
       "DynamoDBReadPolicy, DynamoDBWritePolicy, LambdaInvokePolicy; and inline {Statement: [...]} documents)"},
      {[&] {
         std::string yaml = chat_template();
         yaml.replace(yaml.find("CodeUri: src/"), 13, "CodeUri: nowhere/");
         return yaml;
       }(),
       "<CodeUri>"},
      {[&] {
         std::string yaml = chat_template();
         const std::string target = "!Join [/, [integrations, !Ref Integ]]";
         yaml.replace(yaml.find(target), target.size(), "integrations/abc1234");
         return yaml;
       }(),
       "t.yaml:15:15: Resources.Route.Properties.Target: \"integrations/abc1234\" names no integration of "
       "this API (integrations/ID, where ID is the Ref of an AWS::ApiGatewayV2::Integration: Integ)"},
      {chat_template("chat", "    DependsOn: Other\n  Other:\n    Type: AWS::SNS::Topic\n    DependsOn: Fn\n"),
       "t.yaml: Circular dependency between resources: [Fn, Other]"},
      {chat_template("chat", "    DependsOn: Missing\n"),
       "t.yaml:33:16: Resources.Fn.DependsOn: Template format error: Unresolved resource dependencies [Missing] in "
       "the Resources block of the template"},
      {chat_template(), "t.yaml: Parameters: [Nope] do not exist in the template", {{"Nope", "x"}}},
      {chat_template("!Ref Env", "", "Parameters:\n  Env: {Type: String, AllowedValues: [dev, prod], Default: dev}\n"),
       "t.yaml:4:8: Parameters.Env: Parameter 'Env' must be one of AllowedValues (value: \"test\")",
       {{"Env", "test"}}},
      {chat_template("!Ref T", "",
                     "Parameters:\n  T:\n    Type: String\n    Default: a1\n    AllowedPattern: ^[a-z]+$\n"
                     "    ConstraintDescription: letters only\n"),
       "t.yaml:5:5: Parameters.T: Parameter T failed to satisfy constraint: letters only (value: \"a1\")"},
      {chat_template("!Ref T", "", "Parameters:\n  T: {Type: String, Default: ab, MinLength: 3}\n"),
       "t.yaml:4:6: Parameters.T: Parameter 'T' must contain at least 3 characters (value: \"ab\")"},
      {chat_template("!Ref T", "", "Parameters:\n  T: {Type: String}\n"),
       "t.yaml:4:6: Parameters.T: Parameters: [T] must have values: give it a Default or --parameter-overrides T=VALUE"},
      {body(chat_template()),
       "t.yaml:26:11: Resources.Fn.Type: Unrecognized resource types: [AWS::Serverless::Function]: SAM's types need "
       "Transform: AWS::Serverless-2016-10-31 at the top of the template"},
      {"---\n# a comment\n" + chat_template() + "---\nResources: {}\n",
       "t.yaml:35: a second YAML document (---): a template is one document"},
      {chat_template("chat", "      Description: &d x\n      Tags: {a: *d}\n"),
       "t.yaml:34:17: YAML aliases are not allowed in CloudFormation templates: write the value out"},
      {chat_template("!FindInMap [M, a, b]", "", "Mappings:\n  M: {a: {b: !Ref AWS::Region}}\n"),
       "t.yaml:4:14: Mappings.M.a.b: a mapping's value is a literal string or list; Ref is not evaluated here"},
      {chat_template("!Equals [a, b]"),
       "t.yaml:7:13: Resources.Api.Properties.Name: Fn::Equals is a condition function: use it in Conditions (and "
       "name the condition in Fn::If)"},
      {"AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
       "Globals:\n  Function:\n    Policies: [AWSLambdaBasicExecutionRole]\n" + body(chat_template()),
       "t.yaml:5:15: Globals.Function.Policies: SAM does not take Policies in Globals: give it to each function"},
      {chat_template("chat", "  Fn2:\n    Type: AWS::ApiGatewayV2::Integration\n"
                             "    Properties: {ApiId: !Ref Api, IntegrationType: MOCK}\n"
                             "  Other:\n    Type: AWS::Serverless::Function\n"
                             "    Properties: {CodeUri: src/, Handler: a.b, Runtime: nodejs20.x, FunctionName: Fn2}\n"
                             "  OtherRoute:\n    Type: AWS::ApiGatewayV2::Route\n"
                             "    Properties: {ApiId: !Ref Api, RouteKey: other, Target: !Sub 'integrations/${OtherInteg}'}\n"
                             "  OtherInteg:\n    Type: AWS::ApiGatewayV2::Integration\n"
                             "    Properties: {ApiId: !Ref Api, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Other.Arn}\n"),
       "t.yaml:37:5: Resources.Other: the integration name Fn2 is both a function's name and a MOCK integration's "
       "logical id; rename one"},
      {chat_template("chat", "      Timeout: 010\n"),
       "t.yaml:33:16: Resources.Fn.Properties.Timeout: must be a number, not \"010\""},
      {chat_template("chat", "  Response:\n    Type: AWS::ApiGatewayV2::RouteResponse\n"
                             "    Properties: {ApiId: !Ref Api, RouteId: !Ref Route, RouteResponseKey: $ok}\n"),
       "t.yaml:35:74: Resources.Response.Properties.RouteResponseKey: a WebSocket route response's key is $default"},
      {"- just\n- a list\n",
       "t.yaml: a template is a map with a Resources section (AWSTemplateFormatVersion, Transform, Parameters, "
       "Conditions, Mappings, Globals, Resources, Outputs)"},
      {sam + "Resources:\n  T: {Type: AWS::SNS::Topic}\n",
       "t.yaml: no AWS::ApiGatewayV2::Api with ProtocolType: WEBSOCKET, so nothing to serve"},
      {chat_template("chat", "  Api2:\n    Type: AWS::ApiGatewayV2::Api\n    Properties: {Name: b, ProtocolType: WEBSOCKET, "
                             "RouteSelectionExpression: $request.body.a}\n"),
       "t.yaml: the template has 2 WebSocket APIs (Api, Api2): choose one with --api LOGICAL_ID (the emulator's "
       "server serves each on a port of its own)"},
      {chat_template("!Ref Topic", "  Topic:\n    Type: AWS::SNS::Topic\n    Condition: Never\n",
                     "Conditions:\n  Never: !Equals [a, b]\n"),
       "t.yaml:9:13: Resources.Api.Properties.Name: Topic is not created: its Condition Never is false (refer to it "
       "inside Fn::If [Never, ...])"},
      {[&] {
         std::string yaml = chat_template();
         yaml.replace(yaml.find("${Fn.Arn}"), 9, "arn:aws:lambda:us-east-1:123456789012:function:Other");
         return yaml;
       }(),
       "t.yaml:21:23: Resources.Integ.Properties.IntegrationUri: function Other is not a function of this template "
       "(its functions: Fn)"},
      {[&] {
         std::string yaml = chat_template();
         yaml.replace(yaml.find("IntegrationType: AWS_PROXY"), 26, "IntegrationType: HTTP_PROXY");
         return yaml;
       }(),
       "t.yaml:20:24: Resources.Integ.Properties.IntegrationType: \"HTTP_PROXY\": the emulator runs AWS_PROXY (a Lambda "
       "function of the template) and MOCK integrations"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.yaml);
    const auto t = translate(row.yaml, row.overrides);
    if (row.message == "<CodeUri>") {
      EXPECT_EQ(t.error.rfind("t.yaml:30:16: Resources.Fn.Properties.CodeUri: \"nowhere/\": no such folder (", 0), 0u)
          << t.error;
      continue;
    }
    EXPECT_EQ(t.error, row.message);
  }
}

TEST(TemplateErrorsTest, ParameterOverridesTakeSamsAndTheCliForms) {
  template_options o;
  ASSERT_TRUE(add_parameter_override("TableName=chat=1", o));
  ASSERT_TRUE(add_parameter_override("ParameterKey=Env,ParameterValue=prod", o));
  EXPECT_EQ(o.parameter_overrides,
            (std::vector<std::pair<std::string, std::string>>{{"TableName", "chat=1"}, {"Env", "prod"}}));
  EXPECT_EQ(add_parameter_override("=x", o).error(), "--parameter-overrides =x: write NAME=VALUE (e.g. TableName=chat)");
  EXPECT_EQ(add_parameter_override("ParameterKey=Env", o).error(),
            "--parameter-overrides ParameterKey=Env: write ParameterKey=NAME,ParameterValue=VALUE");
}

}  // namespace
}  // namespace apigw::templates
