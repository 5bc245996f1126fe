// The benchmark's $connect and $disconnect function (bench/functions/churn-node.json): accepts.
exports.handler = async () => ({ statusCode: 200 });
