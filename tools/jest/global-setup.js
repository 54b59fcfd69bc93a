// What the tests need, found or started once for every worker, so that `npm test` alone
// runs every test on a fresh machine:
//   Kafka: KAFKA_BROKERS from the environment; else a broker already answering on
//   127.0.0.1:${KAFKA_PORT:-9092} (e.g. `npm run infra:up`); else one started here from the
//   Kafka jars on Maven Central (tools/kafka/kafka.sh: Java 17 + Maven) and stopped by the
//   global teardown. MRW_TEST_INFRA=none starts nothing (unit tests need nothing), and tests
//   that need a broker are then reported SKIPPED with the reason.
const { execFileSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const KAFKA_SCRIPT = path.join(__dirname, '..', 'kafka', 'kafka.sh');

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

module.exports = async () => {
  if (process.env.KAFKA_BROKERS) return;
  const port = Number(process.env.KAFKA_PORT || 9092);
  if (await reachable('127.0.0.1', port)) {
    process.env.KAFKA_BROKERS = `127.0.0.1:${port}`;
    return;
  }
  if (process.env.MRW_TEST_INFRA === 'none') return;
  if (startKafka(port)) {
    process.env.KAFKA_BROKERS = `127.0.0.1:${port}`;
    // Read by the global teardown, which runs in this same process.
    process.env.MRW_TEST_STARTED_KAFKA = String(port);
  }
};
