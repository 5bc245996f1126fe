"""OnDisconnectFunction, the $disconnect route: forgets the connection that closed."""
import logging
import os

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def lambda_handler(event, context):
    try:
        table.delete_item(Key={"connectionId": event["requestContext"]["connectionId"]})
    except ClientError as e:
        message = "Failed to disconnect: %s: %s" % (e.response["Error"]["Code"], e.response["Error"]["Message"])
        logger.error(message)
        return {"statusCode": 500, "body": message}
    return {"statusCode": 200, "body": "Disconnected."}
