// Drives groupd's /jsonrpc.php with jayson 5.0.0, as a Kanboard script
// would, and prints what it got as one JSON object for the Go test
// (integration/kanboard_jayson_test.go) to judge. Usage:
//   node client.js <base URL> <login> <secret>
'use strict';
const jayson = require('jayson');

const [base, login, secret] = process.argv.slice(2);
const url = new URL('/jsonrpc.php', base);
const client = jayson.Client.http({
  host: url.hostname,
  port: url.port,
  path: url.pathname,
  headers: { Authorization: 'Basic ' + Buffer.from(login + ':' + secret).toString('base64') },
});

// request sends one call (id null: a notification) and resolves to the
// response object jayson returns (undefined for a notification).
function request(method, params, id) {
  return new Promise((resolve, reject) => {
    client.request(method, params, id, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

// batch sends calls as one batch and resolves to jayson's responses.
function batch(calls) {
  return new Promise((resolve, reject) => {
    client.request(calls, (err, responses) => (err ? reject(err) : resolve(responses)));
  });
}

async function main() {
  const out = {};
  out.created = await request('createGroup', ['jayson-group', 'jayson-ext'], 'create-1');
  const id = out.created.result;
  out.get = await request('getGroup', { group_id: id }, 'get-1');
  out.notification = await request('createGroup', ['jayson-notified'], null);
  out.batch = await batch([
    client.request('createGroup', ['jayson-batch'], 'b-1'),
    client.request('createGroup', ['jayson-batch-note'], null),
    client.request('getGroup', [id], 'b-2'),
    client.request('noSuchProcedure', [], 'b-3'),
  ]);
  out.notificationsOnly = await batch([client.request('createGroup', ['jayson-note-2'], null)]);
  out.all = await request('getAllGroups', [], 'all-1');
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write('jayson client failed: ' + (err && err.stack ? err.stack : String(err)) + '\n');
  process.exit(1);
});
