/**
 * A local webhook receiver for tests: it records every request's headers and raw body bytes (what
 * a real receiver must verify) and answers what `respond` says.
 */
import { once } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export class Receiver {
  readonly received: Received[] = [];
  respond: (requestNumber: number) => number = () => 200;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(tls?: { certPem: string; keyPem: string }): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const handler = async (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      receiver?.received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(receiver?.respond(receiver.received.length) ?? 200).end('thanks');
    };
    const server = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler) : createHttpServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    receiver = new Receiver(server, `${tls ? 'https' : 'http'}://127.0.0.1:${port}/api/partner-center/events`);
    return receiver;
  }

  /** The bodies received, parsed. */
  events(): Record<string, unknown>[] {
    return this.received.map((r) => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
