"""OnConnectFunction, the $connect route: remembers the new connection in the connections table.
A status other than 2xx refuses the WebSocket handshake."""
import logging
import os

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def lambda_handler(event, context):
    try:
        table.put_item(Item={"connectionId": event["requestContext"]["connectionId"]})
    except ClientError as e:
        message = "Failed to connect: %s: %s" % (e.response["Error"]["Code"], e.response["Error"]["Message"])
        logger.error(message)
        return {"statusCode": 500, "body": message}
    return {"statusCode": 200, "body": "Connected."}
