"""AuthorizerFunction, the REQUEST authorizer of $connect: who may join the chat. API Gateway
calls it with the handshake's query string (?token=alice-token); without a token it answers 401
itself and does not call the function."""

USERS = {
    "alice-token": {"principalId": "alice", "context": {"displayName": "Alice"}},
    "bob-token": {"principalId": "bob", "context": {"displayName": "Bob"}},
    "revoked-token": {"principalId": "revoked", "deny": True},
}


def lambda_handler(event, context):
    token = (event.get("queryStringParameters") or {}).get("token")
    user = USERS.get(token)
    # Exactly "Unauthorized": API Gateway answers 401. Any other error is a 500.
    if user is None:
        raise Exception("Unauthorized")
    return {
        "principalId": user["principalId"],
        # Deny: API Gateway answers 403. Allow: $connect runs.
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": "Deny" if user.get("deny") else "Allow",
                "Resource": event["methodArn"],
            }],
        },
        # Every later event of the connection carries this in requestContext.authorizer.
        "context": user.get("context", {}),
    }
