// Init container of every suite Deployment (mounted from the mrw-preflight ConfigMap, run
// with the suite image's node). Two jobs, both before the service process starts:
//
// 1. Refuse placeholder secrets. secrets.yaml is a template; applied unedited, its
//    REPLACE_ME values would become real credentials (an admin token anyone can read in
//    the repository). Checks MRW_SECRET_KEY (required with MRW_BUS=kafka, as the services
//    require it), MRW_ADMIN_TOKEN, MRW_SERVICE_TOKEN and the tokens in MRW_SEED_TOKENS_FILE,
//    whichever the container has. Each needs 32+ characters, the services' own minimum
//    (MIN_SECRET_LENGTH in libs/platform), so a short one fails here, with the Secret to
//    edit named.
// 2. Wait until Kafka (every KAFKA_BROKERS entry) and the event store (EventStoreDB's
//    EVENTSTOREDB_URL, or PostgreSQL's MRW_POSTGRES_URL when MRW_STORE=postgres) accept TCP
//    connections, so a fresh install does not start with a crash-loop back-off.
//    Gives up after PREFLIGHT_TIMEOUT_SECONDS (default 300); the kubelet then retries.
'use strict';
const fs = require('node:fs');
const net = require('node:net');

const fail = (message) => {
  console.error(`preflight: ${message}`);
  process.exit(1);
};

const MIN_SECRET_LENGTH = 32;
const isPlaceholder = (value) => typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || value.includes('REPLACE_ME');

const problems = [];
if (process.env.MRW_BUS === 'kafka' && !('MRW_SECRET_KEY' in process.env)) {
  problems.push('MRW_SECRET_KEY is not set: every suite service needs the same server secret (Secret mrw-server-secret, key server-secret)');
}
// PGPASSWORD: the database password of deploy/k8s-postgres (Secret mrw-postgres).
for (const name of ['MRW_SECRET_KEY', 'MRW_ADMIN_TOKEN', 'MRW_SERVICE_TOKEN', 'PGPASSWORD']) {
  if (name in process.env && isPlaceholder(process.env[name])) {
    problems.push(`${name} is empty, shorter than ${MIN_SECRET_LENGTH} characters or a REPLACE_ME placeholder`);
  }
}
const seedFile = process.env.MRW_SEED_TOKENS_FILE;
if (seedFile) {
  try {
    const seeds = JSON.parse(fs.readFileSync(seedFile, 'utf8'));
    if (!Array.isArray(seeds)) throw new Error('expected a JSON array');
    for (const seed of seeds) {
      if (isPlaceholder(seed && seed.token)) {
        problems.push(`${seedFile}: the token of ${seed && seed.subject} is shorter than ${MIN_SECRET_LENGTH} characters or a placeholder`);
      }
    }
  } catch (error) {
    problems.push(`${seedFile}: ${error.message}`);
  }
}
if (problems.length > 0) {
  fail(
    'refusing to start with placeholder secrets (edit the Secrets mrw-server-secret, mrw-registry-secrets, mrw-service-tokens and, on PostgreSQL, mrw-postgres, ' +
      `see deploy/k8s/secrets.yaml; generate each with \`openssl rand -base64 32\`):\n  - ${problems.join('\n  - ')}`,
  );
}

const endpoints = [];
for (const broker of (process.env.KAFKA_BROKERS || '').split(',').map((b) => b.trim()).filter(Boolean)) {
  const at = broker.lastIndexOf(':');
  endpoints.push({ what: 'kafka', host: broker.slice(0, at), port: Number(broker.slice(at + 1)) });
}
if (process.env.EVENTSTOREDB_URL) {
  // esdb://host:port[,host:port]?tls=false
  const hosts = process.env.EVENTSTOREDB_URL.replace(/^esdb(\+discover)?:\/\//, '').split(/[/?]/)[0];
  for (const hostPort of hosts.split(',')) {
    const withoutCredentials = hostPort.slice(hostPort.lastIndexOf('@') + 1);
    const at = withoutCredentials.lastIndexOf(':');
    endpoints.push({
      what: 'eventstoredb',
      host: at > 0 ? withoutCredentials.slice(0, at) : withoutCredentials,
      port: at > 0 ? Number(withoutCredentials.slice(at + 1)) : 2113,
    });
  }
}

if (process.env.MRW_STORE === 'postgres' && process.env.MRW_POSTGRES_URL) {
  // postgres://user@host:port/db (the password, if any, is never printed)
  try {
    const url = new URL(process.env.MRW_POSTGRES_URL);
    endpoints.push({ what: 'postgresql', host: url.hostname, port: Number(url.port || 5432) });
  } catch {
    fail('MRW_POSTGRES_URL is not a URL (expected postgres://user@host:5432/database)');
  }
}

const reachable = ({ host, port }) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });

const deadline = Date.now() + Number(process.env.PREFLIGHT_TIMEOUT_SECONDS || 300) * 1000;
const waitFor = async (endpoint) => {
  let reported = false;
  while (!(await reachable(endpoint))) {
    if (Date.now() > deadline) fail(`${endpoint.what} at ${endpoint.host}:${endpoint.port} is still unreachable; giving up`);
    if (!reported) console.log(`preflight: waiting for ${endpoint.what} at ${endpoint.host}:${endpoint.port}`);
    reported = true;
    await new Promise((r) => setTimeout(r, 2000));
  }
  console.log(`preflight: ${endpoint.what} at ${endpoint.host}:${endpoint.port} is reachable`);
};

Promise.all(endpoints.map(waitFor)).then(() => console.log('preflight: ok'));
