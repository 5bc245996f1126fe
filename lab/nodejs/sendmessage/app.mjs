// SendMessageFunction, the sendmessage route: {"action": "sendmessage", "data": "hello"} sends
// "hello" to every connection in the connections table, the sender's included.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, DeleteCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const TABLE_NAME = process.env.TABLE_NAME;

export const handler = async (event) => {
  let connections;
  try {
    const scanned = await ddb.send(new ScanCommand({ TableName: TABLE_NAME, ProjectionExpression: "connectionId" }));
    connections = scanned.Items;
  } catch (err) {
    return failed(err);
  }

  // A body that is not a JSON object makes the function fail: the client gets "Internal server error".
  const message = JSON.parse(event.body);
  if (message === null || typeof message !== "object" || Array.isArray(message)) {
    throw new SyntaxError("the message is not a JSON object");
  }
  // Text is sent as it is; other data (a number, an object) as its JSON text.
  const data = typeof message.data === "string" ? message.data : JSON.stringify(message.data) ?? "";

  // The @connections API of this WebSocket API and stage.
  const { apiId, stage } = event.requestContext;
  const api = new ApiGatewayManagementApiClient({
    endpoint: `https://${apiId}.execute-api.${process.env.AWS_REGION}.amazonaws.com/${stage}`,
  });

  const post = async (connectionId) => {
    try {
      await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
    } catch (err) {
      if (err.name !== "GoneException") throw err;
      // 410 Gone: the client left without $disconnect having removed it.
      console.log(`Found stale connection, deleting ${connectionId}`);
      await ddb.send(new DeleteCommand({ TableName: TABLE_NAME, Key: { connectionId } }));
    }
  };

  // Every post is tried; the first failure (in the table's order) fails the function.
  const results = await Promise.allSettled(connections.map(({ connectionId }) => post(connectionId)));
  const failure = results.find((r) => r.status === "rejected");
  if (failure) return failed(failure.reason);
  return { statusCode: 200, body: "Data sent." };
};

function failed(err) {
  const message = `${err.name}: ${err.message}`;
  console.error(message);
  return { statusCode: 500, body: message };
}
