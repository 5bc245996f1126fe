// OnDisconnectFunction, the $disconnect route: forgets the connection that closed.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, DeleteCommand } from "@aws-sdk/lib-dynamodb";

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) => {
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: process.env.TABLE_NAME,
        Key: { connectionId: event.requestContext.connectionId },
      }),
    );
  } catch (err) {
    const message = `Failed to disconnect: ${err.name}: ${err.message}`;
    console.error(message);
    return { statusCode: 500, body: message };
  }
  return { statusCode: 200, body: "Disconnected." };
};
