import { connect } from 'node:net';

/** Whether something accepts TCP connections at `host:port` within a second: a benchmark that needs a server says SKIPPED otherwise. */
export const reachable = (address: string): Promise<boolean> =>
  new Promise((resolve) => {
    const at = address.lastIndexOf(':');
    const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    const done = (up: boolean): void => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
