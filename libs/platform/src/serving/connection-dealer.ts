import { createServer, type Server, type Socket } from 'node:net';

/** Somewhere a new connection can be served: this process's HTTP server, or a reader process. */
export interface ConnectionTaker {
  /** Takes `socket` (paused, nothing read yet); false when it cannot, and the next one is asked. */
  take(socket: Socket): boolean;
}

/**
 * The suite's port when several processes serve it. It accepts each connection without reading
 * from it and deals it, in turn, to one of the takers (this process or a reader), which then
 * serves every request of that connection. A connection is dealt once: keep-alive clients stay
 * with the process they were given, so dealing costs nothing per request.
 */
export class ConnectionDealer {
  private readonly server: Server;
  private turn = 0;

  constructor(private readonly takers: () => readonly ConnectionTaker[]) {
    this.server = createServer({ pauseOnConnect: true }, (socket) => this.deal(socket));
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Stops accepting. Connections already dealt stay with their process, which closes them as it
   * stops (the server's own close would wait for every one of them to end).
   */
  close(): void {
    this.server.close();
  }

  private deal(socket: Socket): void {
    const takers = this.takers();
    for (let asked = 0; asked < takers.length; asked += 1) {
      const taker = takers[this.turn++ % takers.length] as ConnectionTaker;
      if (taker.take(socket)) return;
    }
    socket.destroy();
  }
}

/**
 * The connections dealt to an HTTP server of this process (one not listening on the port
 * itself). Its own `close` would not wait for them (they were never accepted by it), so a
 * process that stops drains them first: idle ones are closed, busy ones once their answer is
 * written, until none is left or the deadline passes.
 */
export class ServedHere implements ConnectionTaker {
  private readonly open = new Set<Socket>();

  constructor(private readonly server: { emit(event: 'connection', socket: Socket): boolean; closeIdleConnections(): void }) {}

  take(socket: Socket): boolean {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    this.server.emit('connection', socket);
    socket.resume();
    return true;
  }

  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.open.size > 0 && Date.now() < deadline) {
      this.server.closeIdleConnections();
      if (this.open.size > 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    for (const socket of this.open) socket.destroy();
  }
}
