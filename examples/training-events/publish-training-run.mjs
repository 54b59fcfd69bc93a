#!/usr/bin/env node
// Publishes a finished training run to the model registry over Kafka (mrw.training.events.v1).
//
//   MRW_URL=http://registry:8080 MRW_TOKEN=mrw_… KAFKA_BROKERS=kafka:9092 \
//     node examples/training-events/publish-training-run.mjs run.json
//
// run.json is a TrainingRunCompleted event (docs/schemas/training-run-completed.v1.json), e.g.
//   {"type": "TrainingRunCompleted", "model": "churn", "runId": "gha-8123456789-1",
//    "artifactDigest": "sha256:…", "metrics": {"accuracy": 0.91}, "requestStage": "Staging"}
//
// MRW_TOKEN is a token with the contributor role (scoped to the model, ideally). It never goes on
// the topic: the script asks the registry once for the token's signing key and signs the message
// with it. MRW_TRAINING_TOPIC overrides the topic (e.g. a prefixed one, with KAFKA_NAMESPACE).
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, Partitioners, logLevel } from 'kafkajs';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (!value) {
    console.error(`set ${name}`);
    process.exit(2);
  }
  return value;
};

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: publish-training-run.mjs <event.json>');
  process.exit(2);
}
const event = JSON.parse(readFileSync(file, 'utf8'));
const registry = env('MRW_URL').replace(/\/+$/, '');
const token = env('MRW_TOKEN');
const brokers = env('KAFKA_BROKERS').split(',');
const topic = env('MRW_TRAINING_TOPIC', 'mrw.training.events.v1');

// 1. The token's signing key (ask once and keep it with the token: it signs only as this token, while it lives).
const response = await fetch(`${registry}/api/v1/tokens/self/signing-key`, { headers: { authorization: `Bearer ${token}` } });
if (!response.ok) {
  console.error(`the registry refused the token: ${response.status} ${await response.text()}`);
  process.exit(1);
}
const { tokenId, signingKey } = await response.json();

// 2. Sign exactly the bytes that are published: base64url(HMAC-SHA256(key, value)).
const value = JSON.stringify(event);
const signature = createHmac('sha256', Buffer.from(signingKey, 'base64url')).update(value, 'utf8').digest('base64url');

// 3. Publish, keyed by the model, and wait for every in-sync replica. Sending the same run again is
//    harmless: the registry registers one version per (model, runId).
const kafka = new Kafka({ clientId: 'training-platform', brokers, logLevel: logLevel.WARN });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
try {
  await producer.send({
    topic,
    acks: -1,
    messages: [
      {
        key: event.model,
        value,
        headers: { authorization: `MRW-HMAC-SHA256 token=${tokenId}, signature=${signature}`, 'correlation-id': randomUUID() },
      },
    ],
  });
} finally {
  await producer.disconnect();
}
console.log(`published run ${event.runId} of ${event.model} to ${topic}`);
