// dockerode as its users write it: `new Docker()` reads DOCKER_HOST (docker-modem's defaultOpts),
// here the ssh:// endpoint of a docker context, then `docker.version()`. Prints one line of JSON:
// {"ok":true,"server_version":"…"} or {"ok":false,"error":"<the library's message>","code":"…"},
// and exits 0 once it could say which; after 20 s it reports a timeout. Run by tests/e2e/clients.rs
// with node, from target/clients/node (scripts/clients.sh).
'use strict';
const path = require('path');

const root = process.env.RDOCK_CLIENTS_NODE || path.join(__dirname, '..', '..', 'target', 'clients', 'node');
const Docker = require(require.resolve('dockerode', { paths: [root] }));

let said = false;
function say(result) {
  if (said) return;
  said = true;
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

setTimeout(() => say({ ok: false, error: 'no answer within 20 s', code: 'TIMEOUT' }), 20000).unref();
try {
  new Docker()
    .version()
    .then((v) => say({ ok: true, server_version: v.Version }))
    .catch((e) => say({ ok: false, error: String(e && e.message ? e.message : e), code: e && e.code }));
} catch (e) {
  say({ ok: false, error: String(e && e.message ? e.message : e), code: e && e.code });
}
