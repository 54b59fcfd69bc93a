// Stops what tools/jest/global-setup.js started (and only that): a broker someone else
// started, or one given by KAFKA_BROKERS, is left alone.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  if (globalThis.__MRW_KAFKA_CONTAINER__) await globalThis.__MRW_KAFKA_CONTAINER__.stop();
  const port = process.env.MRW_TEST_STARTED_KAFKA;
  if (!port) return;
  try {
    execFileSync('bash', [path.join(__dirname, '..', 'kafka', 'kafka.sh'), 'down'], {
      env: { ...process.env, KAFKA_PORT: port },
      stdio: ['ignore', 2, 2],
      timeout: 120_000,
    });
  } catch (error) {
    process.stderr.write(`[test infra] could not stop the Kafka broker on ${port}: ${error.message}\n`);
  }
};
