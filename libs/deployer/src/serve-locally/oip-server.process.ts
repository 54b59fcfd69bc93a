/**
 * The entry of one environment's serving process, started by LocalRuntime with an IPC channel.
 * It imports only relative modules and node packages, so it runs as compiled JS from dist and
 * as TypeScript under the test runner (through @swc-node/register).
 */
import { OipServer } from './oip-server';
import type { ControlReply, ControlRequest, ProcessOptions } from './control-messages';

const send = (message: ControlReply): void => {
  process.send?.(message);
};

const main = async (): Promise<void> => {
  const options = JSON.parse(process.env['MRW_OIP_OPTIONS'] ?? '{}') as ProcessOptions;
  const server = new OipServer(options);
  let closing = false;
  const shutdown = async (code: number): Promise<void> => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => undefined);
    process.exit(code);
  };
  // Orphaned (the supervisor died): nobody can switch or stop this process any more.
  process.on('disconnect', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  process.on('message', (request: ControlRequest) => {
    const answer = async (): Promise<unknown> => {
      switch (request.type) {
        case 'load':
          return server.load(request.spec);
        case 'promote':
          return { retired: await server.promote(request.model, request.version) };
        case 'unload':
          return server.unload(request.model, request.version);
        case 'shutdown':
          setImmediate(() => void shutdown(0));
          return null;
      }
    };
    answer().then(
      (value) => send({ id: request.id, ok: true, value: value ?? null }),
      (error: unknown) =>
        send({
          id: request.id,
          ok: false,
          code: (error as { code?: string }).code ?? 'CONTROL_FAILED',
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  });

  const port = await server.listen(options.port, options.host);
  send({ type: 'listening', port });
};

main().catch((error: unknown) => {
  process.stderr.write(`oip server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
