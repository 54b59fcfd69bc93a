// Finds the Kafka broker the tests may use, once for every worker:
//   KAFKA_BROKERS from the environment, else a broker answering on 127.0.0.1:${KAFKA_PORT:-9092}
//   (started by `npm run infra:up`). Tests that need one and find none are reported SKIPPED.
const net = require('node:net');

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

module.exports = async () => {
  if (process.env.KAFKA_BROKERS) return;
  const port = Number(process.env.KAFKA_PORT || 9092);
  if (await reachable('127.0.0.1', port)) process.env.KAFKA_BROKERS = `127.0.0.1:${port}`;
};
