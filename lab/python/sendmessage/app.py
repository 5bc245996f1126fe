"""SendMessageFunction, the sendmessage route: {"action": "sendmessage", "data": "hello"} sends
"hello" to every connection in the connections table, the sender's included."""
import json
import logging
import os

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def lambda_handler(event, context):
    try:
        connections = table.scan(ProjectionExpression="connectionId")["Items"]
    except ClientError as e:
        return failed(e)

    # A body that is not a JSON object makes the function fail: the client gets "Internal server error".
    message = json.loads(event["body"])
    if not isinstance(message, dict):
        raise ValueError("the message is not a JSON object")
    # Text is sent as it is; other data (a number, an object) as its JSON text.
    data = message.get("data", "")
    if not isinstance(data, str):
        data = json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    # The @connections API of this WebSocket API and stage.
    rc = event["requestContext"]
    api = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="https://%s.execute-api.%s.amazonaws.com/%s" % (rc["apiId"], os.environ["AWS_REGION"], rc["stage"]),
    )

    # Every post is tried; the first failure fails the function.
    failure = None
    for item in connections:
        connection_id = item["connectionId"]
        try:
            try:
                api.post_to_connection(ConnectionId=connection_id, Data=data.encode("utf-8"))
            except api.exceptions.GoneException:
                # 410 Gone: the client left without $disconnect having removed it.
                logger.info("Found stale connection, deleting %s", connection_id)
                table.delete_item(Key={"connectionId": connection_id})
        except ClientError as e:
            failure = failure or e
    if failure:
        return failed(failure)
    return {"statusCode": 200, "body": "Data sent."}


def failed(e):
    message = "%s: %s" % (e.response["Error"]["Code"], e.response["Error"]["Message"])
    logger.error(message)
    return {"statusCode": 500, "body": message}
