# The benchmark's echo function (bench/functions/echo-python.json): the message back as the route
# response, so the load generator checks every reply byte for byte.
def lambda_handler(event, context):
    return {"statusCode": 200, "body": event["body"]}
