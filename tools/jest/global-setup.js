// What the tests need, found or started once for every worker, so that `npm test` alone
// runs every test on a fresh machine. Kafka, in this order:
//   1. KAFKA_BROKERS from the environment;
//   2. a broker already answering on 127.0.0.1:${KAFKA_PORT:-9092} (e.g. `npm run infra:up`);
//   3. where a container engine answers: a broker in a container (@testcontainers/kafka);
//   4. otherwise one started here from the Kafka jars on Maven Central (tools/kafka/kafka.sh:
//      Java 17 + Maven).
// What was started here is stopped by the global teardown. MRW_TEST_INFRA=none starts
// nothing (unit tests need nothing), and tests that need a broker are then reported SKIPPED
// with the reason. EventStoreDB is chosen by its own spec (EVENTSTOREDB_URL, else a container).
//
// PostgreSQL (MRW_POSTGRES_URL, for the PostgreSQL event store), in the same order:
//   1. MRW_POSTGRES_URL from the environment;
//   2. a server already answering on 127.0.0.1:${POSTGRES_PORT:-15432} (`npm run infra:up`
//      starts one: user postgres, database mrw, no password);
//   3. where a container engine answers and @testcontainers/postgresql is installed: a container;
//   4. otherwise a throwaway cluster from Debian's postgresql package (tools/postgres/postgres.sh).
// MRW_TEST_INFRA=none starts nothing here either, and tests needing PostgreSQL report SKIPPED.
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const KAFKA_SCRIPT = path.join(__dirname, '..', 'kafka', 'kafka.sh');
const POSTGRES_SCRIPT = path.join(__dirname, '..', 'postgres', 'postgres.sh');

const reachable = (host, port) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });

const startKafka = (port) => {
  process.stderr.write(`\n[test infra] no Kafka broker on 127.0.0.1:${port}: starting one (tools/kafka/kafka.sh up)…\n`);
  try {
    execFileSync('bash', [KAFKA_SCRIPT, 'up'], { env: { ...process.env, KAFKA_PORT: String(port) }, stdio: ['ignore', 2, 2], timeout: 600_000 });
    return true;
  } catch (error) {
    process.stderr.write(`[test infra] could not start Kafka (${error.message}); the Kafka tests will be reported SKIPPED\n`);
    return false;
  }
};

/** A container engine that answers (a socket or DOCKER_HOST, and `docker info` within 5 s). */
const containerEngine = () =>
  (existsSync('/var/run/docker.sock') || (process.env.DOCKER_HOST ?? '') !== '') &&
  spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 }).status === 0;

const startKafkaContainer = async () => {
  const { KafkaContainer } = require('@testcontainers/kafka');
  const image = process.env.KAFKA_IMAGE || 'confluentinc/cp-kafka:7.9.0';
  process.stderr.write(`\n[test infra] a container engine answers: starting Kafka in a container (${image})…\n`);
  const container = await new KafkaContainer(image).withKraft().start();
  globalThis.__MRW_KAFKA_CONTAINER__ = container;
  return `${container.getHost()}:${container.getMappedPort(9093)}`;
};

const setUpKafka = async () => {
  if (process.env.KAFKA_BROKERS) return;
  const port = Number(process.env.KAFKA_PORT || 9092);
  if (await reachable('127.0.0.1', port)) {
    process.env.KAFKA_BROKERS = `127.0.0.1:${port}`;
    return;
  }
  if (process.env.MRW_TEST_INFRA === 'none') return;
  if (containerEngine()) {
    try {
      process.env.KAFKA_BROKERS = await startKafkaContainer();
      return;
    } catch (error) {
      process.stderr.write(`[test infra] the Kafka container did not start (${error.message}); using the broker from Maven Central's jars\n`);
    }
  }
  if (startKafka(port)) {
    process.env.KAFKA_BROKERS = `127.0.0.1:${port}`;
    // Read by the global teardown, which runs in this same process.
    process.env.MRW_TEST_STARTED_KAFKA = String(port);
  }
};

/** The URL of the cluster tools/postgres/postgres.sh runs on this port. */
const scriptPostgresUrl = (port) => `postgres://postgres@127.0.0.1:${port}/mrw`;

/** Whether a package is installed, without loading it. */
const installed = (name) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};

const startPostgresContainer = async () => {
  const { PostgreSqlContainer } = require('@testcontainers/postgresql');
  const image = process.env.POSTGRES_IMAGE || 'postgres:16-alpine';
  process.stderr.write(`\n[test infra] a container engine answers: starting PostgreSQL in a container (${image})…\n`);
  const container = await new PostgreSqlContainer(image).withDatabase('mrw').start();
  globalThis.__MRW_POSTGRES_CONTAINER__ = container;
  return container.getConnectionUri();
};

const startPostgres = (port) => {
  process.stderr.write(`\n[test infra] no PostgreSQL on 127.0.0.1:${port}: starting one (tools/postgres/postgres.sh up)…\n`);
  try {
    execFileSync('bash', [POSTGRES_SCRIPT, 'up'], { env: { ...process.env, POSTGRES_PORT: String(port) }, stdio: ['ignore', 2, 2], timeout: 180_000 });
    return true;
  } catch (error) {
    process.stderr.write(`[test infra] could not start PostgreSQL (${error.message}); the PostgreSQL tests will be reported SKIPPED\n`);
    return false;
  }
};

const setUpPostgres = async () => {
  if (process.env.MRW_POSTGRES_URL) return;
  const port = Number(process.env.POSTGRES_PORT || 15432);
  if (await reachable('127.0.0.1', port)) {
    process.env.MRW_POSTGRES_URL = scriptPostgresUrl(port);
    return;
  }
  if (process.env.MRW_TEST_INFRA === 'none') return;
  if (installed('@testcontainers/postgresql') && containerEngine()) {
    try {
      process.env.MRW_POSTGRES_URL = await startPostgresContainer();
      return;
    } catch (error) {
      process.stderr.write(`[test infra] the PostgreSQL container did not start (${error.message}); using Debian's postgresql package\n`);
    }
  }
  if (startPostgres(port)) {
    process.env.MRW_POSTGRES_URL = scriptPostgresUrl(port);
    process.env.MRW_TEST_STARTED_POSTGRES = String(port);
  }
};

module.exports = async () => {
  await setUpKafka();
  await setUpPostgres();
};
