// AuthorizerFunction, the REQUEST authorizer of $connect: who may join the chat. API Gateway
// calls it with the handshake's query string (?token=alice-token); without a token it answers
// 401 itself and does not call the function.
const USERS = new Map([
  ["alice-token", { principalId: "alice", context: { displayName: "Alice" } }],
  ["bob-token", { principalId: "bob", context: { displayName: "Bob" } }],
  ["revoked-token", { principalId: "revoked", deny: true }],
]);

export const handler = async (event) => {
  const user = USERS.get(event.queryStringParameters?.token);
  // Exactly "Unauthorized": API Gateway answers 401. Any other error is a 500.
  if (!user) throw new Error("Unauthorized");
  return {
    principalId: user.principalId,
    // Deny: API Gateway answers 403. Allow: $connect runs.
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: user.deny ? "Deny" : "Allow", Resource: event.methodArn }],
    },
    // Every later event of the connection carries this in requestContext.authorizer.
    context: user.context,
  };
};
