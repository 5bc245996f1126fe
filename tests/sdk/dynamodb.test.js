// The AWS SDK for JavaScript, v2 (aws-sdk: AWS.DynamoDB and its DocumentClient) and v3
// (@aws-sdk/client-dynamodb, @aws-sdk/lib-dynamodb), against the emulator's DynamoDB endpoint:
// table operations, item reads and writes with expressions, indexes and paging, batches,
// transactions, time to live, DynamoDB's errors as each SDK surfaces them, the x-amz-crc32 that
// aws-sdk v2 verifies, and concurrent UpdateItem ADD losing nothing.
//
//   APIGW_EMULATOR=/path/to/apigw-ws-emulator node --test dynamodb.test.js
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startEmulator, stopEmulator } = require('./emulator_process');

// Keep the machine's AWS profile and endpoint settings out of both SDKs.
for (const name of ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB']) {
  delete process.env[name];
}
process.env.AWS_SDK_LOAD_CONFIG = '';
process.env.AWS_CONFIG_FILE = '/dev/null';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';

const AWS = require('aws-sdk');
const {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, DeleteTableCommand, UpdateItemCommand,
  GetItemCommand, ConditionalCheckFailedException, ResourceNotFoundException, TransactionCanceledException,
  waitUntilTableExists,
} = require('@aws-sdk/client-dynamodb');
const {
  DynamoDBDocumentClient, PutCommand, GetCommand, UpdateCommand, DeleteCommand, BatchWriteCommand,
  BatchGetCommand, TransactWriteCommand, paginateQuery, paginateScan,
} = require('@aws-sdk/lib-dynamodb');

const CONFIG = path.join(__dirname, 'dynamodb-config.json');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const TEST_TIMEOUT = 30000;

let emu;
before(async () => { emu = await startEmulator(CONFIG); });
after(async () => {
  const result = await stopEmulator(emu);
  assert.equal(result, 0, `the emulator exited with ${result}; stderr: ${emu.stderr()}`);
});

// A table keyed by room (hash) and sent (range), with a global index by user: the chat
// application's shape. Created through CREATE(params) and awaited with WAIT(name).
function chatTable(name) {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'room', AttributeType: 'S' },
      { AttributeName: 'sent', AttributeType: 'N' },
      { AttributeName: 'user', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'room', KeyType: 'HASH' }, { AttributeName: 'sent', KeyType: 'RANGE' }],
    GlobalSecondaryIndexes: [{
      IndexName: 'byUser',
      KeySchema: [{ AttributeName: 'user', KeyType: 'HASH' }, { AttributeName: 'sent', KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['text'] },
    }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

// ---- aws-sdk v2 --------------------------------------------------------------------------------

describe('aws-sdk v2: AWS.DynamoDB and DocumentClient', { timeout: 120000 }, () => {
  let ddb;
  let doc;
  const table = 'v2_messages';
  before(async () => {
    const options = { endpoint: emu.endpoint, region: REGION, credentials: new AWS.Credentials(CREDENTIALS),
      maxRetries: 0, httpOptions: { timeout: 10000, connectTimeout: 5000 } };
    ddb = new AWS.DynamoDB(options);
    doc = new AWS.DynamoDB.DocumentClient({ service: ddb });
    await ddb.createTable(chatTable(table)).promise();
    await ddb.waitFor('tableExists', { TableName: table, $waiter: { delay: 1, maxAttempts: 5 } }).promise();
  });

  it('DescribeTable and ListTables show the table and its index', { timeout: TEST_TIMEOUT }, async () => {
    const { Table } = await ddb.describeTable({ TableName: table }).promise();
    assert.equal(Table.TableStatus, 'ACTIVE');
    assert.equal(Table.TableArn, `arn:aws:dynamodb:${REGION}:123456789012:table/${table}`);
    assert.deepEqual(Table.KeySchema, chatTable(table).KeySchema);
    assert.equal(Table.GlobalSecondaryIndexes.length, 1);
    assert.equal(Table.GlobalSecondaryIndexes[0].IndexName, 'byUser');
    assert.equal(Table.GlobalSecondaryIndexes[0].IndexStatus, 'ACTIVE');
    assert.deepEqual(Table.GlobalSecondaryIndexes[0].Projection, { ProjectionType: 'INCLUDE', NonKeyAttributes: ['text'] });
    const { TableNames } = await ddb.listTables({}).promise();
    assert.ok(TableNames.includes(table) && TableNames.includes('simplechat_connections'), TableNames.join());
  });

  it('put, get, update with ADD and if_not_exists, delete with ReturnValues', { timeout: TEST_TIMEOUT }, async () => {
    const key = { room: 'lobby', sent: 1 };
    assert.deepEqual(await doc.put({ TableName: table, Item: { ...key, user: 'ada', text: 'hi', tags: doc.createSet(['a']) } }).promise(), {});
    const got = await doc.get({ TableName: table, Key: key }).promise();
    assert.equal(got.Item.text, 'hi');
    assert.deepEqual(got.Item.tags.values, ['a']);
    const updated = await doc.update({
      TableName: table, Key: key,
      UpdateExpression: 'SET #t = :t, edits = if_not_exists(edits, :zero) + :one ADD tags :b',
      ExpressionAttributeNames: { '#t': 'text' },
      ExpressionAttributeValues: { ':t': 'hello', ':zero': 0, ':one': 1, ':b': doc.createSet(['b']) },
      ReturnValues: 'UPDATED_NEW',
    }).promise();
    assert.equal(updated.Attributes.text, 'hello');
    assert.equal(updated.Attributes.edits, 1);
    assert.deepEqual([...updated.Attributes.tags.values].sort(), ['a', 'b']);
    const deleted = await doc.delete({ TableName: table, Key: key, ReturnValues: 'ALL_OLD' }).promise();
    assert.equal(deleted.Attributes.text, 'hello');
    assert.deepEqual(await doc.get({ TableName: table, Key: key }).promise(), {});
  });

  it('a failed condition: 400 ConditionalCheckFailedException, the item unchanged', { timeout: TEST_TIMEOUT }, async () => {
    const key = { room: 'cond', sent: 1 };
    await doc.put({ TableName: table, Item: { ...key, text: 'first' } }).promise();
    await assert.rejects(
      doc.put({ TableName: table, Item: { ...key, text: 'second' }, ConditionExpression: 'attribute_not_exists(room)' }).promise(),
      (e) => e.code === 'ConditionalCheckFailedException' && e.statusCode === 400 &&
        e.message === 'The conditional request failed' && e.retryable === false);
    assert.equal((await doc.get({ TableName: table, Key: key }).promise()).Item.text, 'first');
  });

  it('Query of the table and of its index pages with Limit; Scan filters and counts', { timeout: TEST_TIMEOUT }, async () => {
    for (let i = 0; i < 5; i++) {
      await doc.put({ TableName: table, Item: { room: 'paged', sent: 100 + i, user: i % 2 ? 'bob' : 'eve', text: `m${i}`, extra: 'x' } }).promise();
    }
    const sent = [];
    let start;
    let pages = 0;
    do {
      const page = await doc.query({ TableName: table, KeyConditionExpression: 'room = :r AND sent >= :s',
        ExpressionAttributeValues: { ':r': 'paged', ':s': 101 }, Limit: 2, ScanIndexForward: false,
        ExclusiveStartKey: start }).promise();
      sent.push(...page.Items.map((item) => item.sent));
      start = page.LastEvaluatedKey;
      pages++;
    } while (start);
    assert.deepEqual(sent, [104, 103, 102, 101]);
    assert.equal(pages, 3);  // 2 + 2, then an empty last page: DynamoDB stops when a page is short

    const byUser = await doc.query({ TableName: table, IndexName: 'byUser', KeyConditionExpression: '#u = :u',
      ExpressionAttributeNames: { '#u': 'user' }, ExpressionAttributeValues: { ':u': 'bob' } }).promise();
    assert.deepEqual(byUser.Items, [
      { user: 'bob', sent: 101, room: 'paged', text: 'm1' },
      { user: 'bob', sent: 103, room: 'paged', text: 'm3' },
    ]);  // the INCLUDE projection: the keys and text, not extra

    const counted = await doc.scan({ TableName: table, FilterExpression: 'begins_with(#t, :p) AND sent > :s',
      ExpressionAttributeNames: { '#t': 'text' }, ExpressionAttributeValues: { ':p': 'm', ':s': 102 },
      Select: 'COUNT' }).promise();
    assert.equal(counted.Count, 2);
    assert.equal(counted.Items, undefined);
  });

  it('batchWrite then batchGet', { timeout: TEST_TIMEOUT }, async () => {
    const items = Array.from({ length: 25 }, (_, i) => ({ room: 'batch', sent: i, text: `b${i}` }));
    const written = await doc.batchWrite({ RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) } }).promise();
    assert.deepEqual(written.UnprocessedItems, {});
    const read = await doc.batchGet({ RequestItems: { [table]: { Keys: items.slice(0, 10).map(({ room, sent }) => ({ room, sent })),
      ProjectionExpression: 'sent, #t', ExpressionAttributeNames: { '#t': 'text' } } } }).promise();
    assert.deepEqual(read.Responses[table].map((item) => item.text).sort(), items.slice(0, 10).map((item) => item.text).sort());
    assert.deepEqual(read.UnprocessedKeys, {});
  });

  it('a canceled transaction: TransactionCanceledException with its CancellationReasons, nothing written', { timeout: TEST_TIMEOUT }, async () => {
    await doc.put({ TableName: table, Item: { room: 'tx', sent: 1, text: 'taken' } }).promise();
    await assert.rejects(doc.transactWrite({ TransactItems: [
      { Put: { TableName: table, Item: { room: 'tx', sent: 2, text: 'new' } } },
      { Put: { TableName: table, Item: { room: 'tx', sent: 1, text: 'again' }, ConditionExpression: 'attribute_not_exists(room)' } },
    ] }).promise(), (e) => {
      assert.equal(e.code, 'TransactionCanceledException');
      assert.equal(e.message, 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]');
      assert.deepEqual(e.CancellationReasons, [
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      ]);
      return true;
    });
    assert.deepEqual(await doc.get({ TableName: table, Key: { room: 'tx', sent: 2 } }).promise(), {});
  });

  it('DynamoDB\'s errors by code and message', { timeout: TEST_TIMEOUT }, async () => {
    const failure = async (request) => {
      try { await request.promise(); } catch (e) { return [e.code, e.statusCode, e.message]; }
      return null;
    };
    assert.deepEqual(await failure(doc.get({ TableName: 'nosuchtable', Key: { id: 'x' } })),
      ['ResourceNotFoundException', 400, 'Requested resource not found']);
    assert.deepEqual(await failure(doc.get({ TableName: table, Key: { room: 'x' } })),
      ['ValidationException', 400, 'The provided key element does not match the schema']);
    assert.deepEqual(await failure(doc.put({ TableName: table, Item: { room: '', sent: 1 } })),
      ['ValidationException', 400, 'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: room']);
    assert.deepEqual(await failure(doc.update({ TableName: table, Key: { room: 'e', sent: 1 }, UpdateExpression: 'SET name = :v',
      ExpressionAttributeValues: { ':v': 'x' } })),
      ['ValidationException', 400, 'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name']);
    assert.deepEqual(await failure(doc.update({ TableName: table, Key: { room: 'e', sent: 1 }, UpdateExpression: 'SET a = :v',
      ExpressionAttributeValues: { ':v': 'x', ':unused': 'y' } })),
      ['ValidationException', 400, 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}']);
    assert.deepEqual(await failure(ddb.createTable(chatTable(table))),
      ['ResourceInUseException', 400, `Table already exists: ${table}`]);
  });

  it('every answer\'s x-amz-crc32 is the CRC32 of its body, as aws-sdk v2 checks', { timeout: TEST_TIMEOUT }, async () => {
    const answers = [];
    const record = (request) => {
      request.on('complete', (response) => answers.push(response.httpResponse));
      return request.promise().catch(() => {});
    };
    await record(ddb.describeTable({ TableName: table }));
    await record(ddb.scan({ TableName: table }));
    await record(ddb.getItem({ TableName: 'nosuchtable', Key: { id: { S: 'x' } } }));
    assert.equal(answers.length, 3);
    for (const answer of answers) {
      const header = answer.headers['x-amz-crc32'];
      assert.ok(header !== undefined, `no x-amz-crc32 on a ${answer.statusCode}`);
      assert.equal(Number(header), AWS.util.crypto.crc32(answer.body), `on a ${answer.statusCode}`);
    }
  });

  it('UpdateTimeToLive and DescribeTimeToLive', { timeout: TEST_TIMEOUT }, async () => {
    const off = await ddb.describeTimeToLive({ TableName: table }).promise();
    assert.deepEqual(off.TimeToLiveDescription, { TimeToLiveStatus: 'DISABLED' });
    const on = await ddb.updateTimeToLive({ TableName: table, TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true } }).promise();
    assert.deepEqual(on.TimeToLiveSpecification, { AttributeName: 'expires', Enabled: true });
    const described = await ddb.describeTimeToLive({ TableName: table }).promise();
    assert.deepEqual(described.TimeToLiveDescription, { TimeToLiveStatus: 'ENABLED', AttributeName: 'expires' });
  });

  it('a known key signed with a wrong secret: 400 InvalidSignatureException', { timeout: TEST_TIMEOUT }, async () => {
    const wrong = new AWS.DynamoDB({ endpoint: emu.endpoint, region: REGION, maxRetries: 0,
      credentials: new AWS.Credentials({ accessKeyId: 'AKIDADMIN', secretAccessKey: 'not-the-secret' }) });
    await assert.rejects(wrong.listTables({}).promise(),
      (e) => e.code === 'InvalidSignatureException' && e.statusCode === 400);
  });

  it('DeleteTable, then the table is gone', { timeout: TEST_TIMEOUT }, async () => {
    const { TableDescription } = await ddb.deleteTable({ TableName: 'v2_scratch' }).promise().catch(() => ({}));
    assert.equal(TableDescription, undefined);  // never created: ResourceNotFoundException
    await ddb.createTable({ TableName: 'v2_scratch', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }).promise();
    const deleted = await ddb.deleteTable({ TableName: 'v2_scratch' }).promise();
    assert.equal(deleted.TableDescription.TableName, 'v2_scratch');
    await assert.rejects(ddb.describeTable({ TableName: 'v2_scratch' }).promise(),
      (e) => e.code === 'ResourceNotFoundException' && e.message === 'Requested resource not found: Table: v2_scratch not found');
  });
});

// ---- @aws-sdk v3 -------------------------------------------------------------------------------

describe('@aws-sdk v3: DynamoDBClient and DynamoDBDocumentClient', { timeout: 120000 }, () => {
  let client;
  let doc;
  const table = 'v3_messages';
  const newClient = () => new DynamoDBClient({ endpoint: emu.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  before(async () => {
    client = newClient();
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    await client.send(new CreateTableCommand(chatTable(table)));
    await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 1 }, { TableName: table });
  });
  after(() => client.destroy());

  it('put, get, update and delete through the document client', { timeout: TEST_TIMEOUT }, async () => {
    const key = { room: 'lobby', sent: 1 };
    await doc.send(new PutCommand({ TableName: table, Item: { ...key, user: 'ada', text: 'hi', seen: new Set(['ada']) } }));
    const { Item } = await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    assert.deepEqual(Item, { ...key, user: 'ada', text: 'hi', seen: new Set(['ada']) });
    const { Attributes } = await doc.send(new UpdateCommand({ TableName: table, Key: key,
      UpdateExpression: 'SET likes = list_append(if_not_exists(likes, :none), :who) REMOVE #t',
      ExpressionAttributeNames: { '#t': 'text' }, ExpressionAttributeValues: { ':none': [], ':who': ['bob'] },
      ReturnValues: 'ALL_NEW' }));
    assert.deepEqual(Attributes, { ...key, user: 'ada', seen: new Set(['ada']), likes: ['bob'] });
    const deleted = await doc.send(new DeleteCommand({ TableName: table, Key: key, ReturnValues: 'ALL_OLD' }));
    assert.deepEqual(deleted.Attributes.likes, ['bob']);
  });

  it('document paths: nested maps and list elements in updates, conditions and projections', { timeout: TEST_TIMEOUT }, async () => {
    const key = { room: 'profile', sent: 1 };
    await doc.send(new PutCommand({ TableName: table, Item: { ...key, profile: { name: 'ada', langs: ['en', 'fr'] }, seen: [1, 2, 3] } }));
    await doc.send(new UpdateCommand({ TableName: table, Key: key,
      UpdateExpression: 'SET profile.#n = :n, profile.langs[2] = :de, profile.visits = if_not_exists(profile.visits, :zero) + :one REMOVE seen[0], seen[2]',
      ConditionExpression: 'profile.langs[0] = :en AND size(profile.langs) = :two',
      ExpressionAttributeNames: { '#n': 'name' },
      ExpressionAttributeValues: { ':n': 'Ada', ':de': 'de', ':zero': 0, ':one': 1, ':en': 'en', ':two': 2 } }));
    const { Item } = await doc.send(new GetCommand({ TableName: table, Key: key,
      ProjectionExpression: 'profile.#n, profile.langs[2], profile.visits, seen', ExpressionAttributeNames: { '#n': 'name' } }));
    assert.deepEqual(Item, { profile: { name: 'Ada', langs: ['de'], visits: 1 }, seen: [2] });
    await assert.rejects(doc.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET nothing.here = :one',
      ExpressionAttributeValues: { ':one': 1 } })),
    (e) => e.name === 'ValidationException' && e.message === 'The document path provided in the update expression is invalid for update');
  });

  it('ConditionalCheckFailedException with the item, when ReturnValuesOnConditionCheckFailure asks', { timeout: TEST_TIMEOUT }, async () => {
    const key = { room: 'cond', sent: 1 };
    await doc.send(new PutCommand({ TableName: table, Item: { ...key, text: 'first' } }));
    await assert.rejects(doc.send(new PutCommand({ TableName: table, Item: { ...key, text: 'second' },
      ConditionExpression: 'attribute_not_exists(room)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
    (e) => {
      assert.ok(e instanceof ConditionalCheckFailedException, e.name);
      assert.equal(e.$metadata.httpStatusCode, 400);
      assert.deepEqual(e.Item, { room: { S: 'cond' }, sent: { N: '1' }, text: { S: 'first' } });
      return true;
    });
  });

  it('paginateQuery over an index and paginateScan walk every page', { timeout: TEST_TIMEOUT }, async () => {
    const items = Array.from({ length: 7 }, (_, i) => ({ room: `r${i % 3}`, sent: i, user: 'pat', text: `t${i}` }));
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) } }));
    const fromIndex = [];
    for await (const page of paginateQuery({ client: doc, pageSize: 3 }, { TableName: table, IndexName: 'byUser',
      KeyConditionExpression: '#u = :u', ExpressionAttributeNames: { '#u': 'user' }, ExpressionAttributeValues: { ':u': 'pat' } })) {
      assert.ok(page.Items.length <= 3);
      fromIndex.push(...page.Items.map((item) => item.sent));
    }
    assert.deepEqual(fromIndex, [0, 1, 2, 3, 4, 5, 6]);
    const scanned = [];
    for await (const page of paginateScan({ client: doc, pageSize: 2 }, { TableName: table, FilterExpression: '#u = :u',
      ExpressionAttributeNames: { '#u': 'user' }, ExpressionAttributeValues: { ':u': 'pat' } })) {
      scanned.push(...page.Items.map((item) => item.sent));
    }
    assert.deepEqual(scanned.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
    const { Responses } = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [{ room: 'r0', sent: 0 }, { room: 'r1', sent: 1 }] } } }));
    assert.deepEqual(Responses[table].map((item) => item.text).sort(), ['t0', 't1']);
  });

  it('TransactionCanceledException carries its CancellationReasons; nothing is written', { timeout: TEST_TIMEOUT }, async () => {
    await assert.rejects(doc.send(new TransactWriteCommand({ TransactItems: [
      { Put: { TableName: table, Item: { room: 'tx', sent: 1, text: 'one' } } },
      { ConditionCheck: { TableName: table, Key: { room: 'tx', sent: 9 }, ConditionExpression: 'attribute_exists(room)' } },
    ] })), (e) => {
      assert.ok(e instanceof TransactionCanceledException, e.name);
      assert.deepEqual(e.CancellationReasons, [
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      ]);
      return true;
    });
    assert.equal((await doc.send(new GetCommand({ TableName: table, Key: { room: 'tx', sent: 1 } }))).Item, undefined);
  });

  it('ResourceNotFoundException for a table that is not there', { timeout: TEST_TIMEOUT }, async () => {
    await assert.rejects(client.send(new DescribeTableCommand({ TableName: 'nosuchtable' })),
      (e) => e instanceof ResourceNotFoundException && e.message === 'Requested resource not found: Table: nosuchtable not found');
  });

  it('UpdateItem ADD from 10 clients, 1,000 times each, counts 10,000', { timeout: 90000 }, async () => {
    const key = { room: { S: 'counter' }, sent: { N: '0' } };
    const clients = Array.from({ length: 10 }, newClient);
    try {
      await Promise.all(clients.map(async (c) => {
        for (let i = 0; i < 1000; i++) {
          await c.send(new UpdateItemCommand({ TableName: table, Key: key, UpdateExpression: 'ADD hits :one',
            ExpressionAttributeValues: { ':one': { N: '1' } } }));
        }
      }));
    } finally {
      for (const c of clients) c.destroy();
    }
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    assert.deepEqual(Item.hits, { N: '10000' });
  });

  it('DeleteTable', { timeout: TEST_TIMEOUT }, async () => {
    const { TableDescription } = await client.send(new DeleteTableCommand({ TableName: table }));
    assert.equal(TableDescription.TableName, table);
    await assert.rejects(client.send(new DescribeTableCommand({ TableName: table })), (e) => e instanceof ResourceNotFoundException);
  });
});
