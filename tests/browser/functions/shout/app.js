// A Lambda function for the dashboard test: answers the message's data in capitals.
exports.handler = async (event) => ({ statusCode: 200, body: JSON.parse(event.body).data.toUpperCase() });
