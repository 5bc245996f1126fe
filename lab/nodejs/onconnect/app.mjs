// OnConnectFunction, the $connect route: remembers the new connection in the connections table.
// A status other than 2xx refuses the WebSocket handshake.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) => {
  try {
    await ddb.send(
      new PutCommand({
        TableName: process.env.TABLE_NAME,
        Item: { connectionId: event.requestContext.connectionId },
      }),
    );
  } catch (err) {
    const message = `Failed to connect: ${err.name}: ${err.message}`;
    console.error(message);
    return { statusCode: 500, body: message };
  }
  return { statusCode: 200, body: "Connected." };
};
