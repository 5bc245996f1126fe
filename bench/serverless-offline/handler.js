// Handlers of the benchmark's WebSocket API on serverless-offline (see serverless.yml):
// $connect and $disconnect answer 200, echo returns the message as the route response, and
// sendmessage posts JSON.parse(body).data to every connected client through the @connections API.
// There is no DynamoDB here, so the connected ids live in a module-level Set: it is shared by all
// four functions only when serverless-offline runs handlers in its own process (--useInProcess),
// which is how bench/compare-serverless-offline starts it.
// The emulator runs connect, disconnect and echo from this same file as Lambda functions
// (bench/serverless-offline/emulator.json): there, as on Lambda, each function has processes of
// its own, so the Set is not shared and sendmessage is not used; the three others need nothing
// shared and behave the same on both.
"use strict"

const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} = require("@aws-sdk/client-apigatewaymanagementapi")

const connections = new Set()
let client

function managementApi() {
  if (!client) {
    client = new ApiGatewayManagementApiClient({
      endpoint: process.env.BENCH_WS_ENDPOINT || "http://127.0.0.1:3001",
      region: process.env.AWS_REGION || "us-east-1",
      credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    })
  }
  return client
}

exports.connect = async (event) => {
  connections.add(event.requestContext.connectionId)
  return { statusCode: 200 }
}

exports.disconnect = async (event) => {
  connections.delete(event.requestContext.connectionId)
  return { statusCode: 200 }
}

exports.echo = async (event) => ({ statusCode: 200, body: event.body })

exports.sendmessage = async (event) => {
  let data
  try {
    data = JSON.parse(event.body).data
  } catch {
    return { statusCode: 400 }
  }
  const api = managementApi()
  const results = await Promise.allSettled(
    Array.from(connections, (ConnectionId) =>
      api.send(new PostToConnectionCommand({ ConnectionId, Data: data })),
    ),
  )
  for (const [i, r] of results.entries()) {
    if (r.status === "rejected" && r.reason?.name !== "GoneException") {
      console.error(`sendmessage: post ${i} failed: ${r.reason?.name}: ${r.reason?.message}`)
    }
  }
  return { statusCode: 200 }
}
