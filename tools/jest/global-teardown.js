// Stops what tools/jest/global-setup.js started (and only that): a broker or PostgreSQL someone
// else started, or one given by KAFKA_BROKERS / MRW_POSTGRES_URL, is left alone.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const stopWithScript = (script, portVariable, port, what) => {
  try {
    execFileSync('bash', [path.join(__dirname, '..', script), 'down'], {
      env: { ...process.env, [portVariable]: port },
      stdio: ['ignore', 2, 2],
      timeout: 120_000,
    });
  } catch (error) {
    process.stderr.write(`[test infra] could not stop ${what} on ${port}: ${error.message}\n`);
  }
};

module.exports = async () => {
  if (globalThis.__MRW_KAFKA_CONTAINER__) await globalThis.__MRW_KAFKA_CONTAINER__.stop();
  if (globalThis.__MRW_POSTGRES_CONTAINER__) await globalThis.__MRW_POSTGRES_CONTAINER__.stop();
  const kafkaPort = process.env.MRW_TEST_STARTED_KAFKA;
  if (kafkaPort) stopWithScript('kafka/kafka.sh', 'KAFKA_PORT', kafkaPort, 'the Kafka broker');
  const postgresPort = process.env.MRW_TEST_STARTED_POSTGRES;
  if (postgresPort) stopWithScript('postgres/postgres.sh', 'POSTGRES_PORT', postgresPort, 'PostgreSQL');
};
