// The benchmark's echo function (bench/functions/echo-node.json): the message back as the route
// response, so the load generator checks every reply byte for byte.
exports.handler = async (event) => ({ statusCode: 200, body: event.body });
