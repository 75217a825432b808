import { once } from "node:events";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import { btree_gist } from "@electric-sql/pglite/contrib/btree_gist";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgresOptions {
  /** Directory of the data files: created on the first start, reused afterwards. Omit for an in-memory database. */
  dataDir?: string;
  /** TCP port to listen on; 0 picks a free one (read it back from `url`). */
  port: number;
  host?: string;
}

export interface EmbeddedPostgres {
  /** `postgresql://postgres:postgres@HOST:PORT/postgres?sslmode=disable` */
  url: string;
  /** Disconnects clients, closes the port, then closes PGlite, which flushes the data files. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Serves a PGlite (PostgreSQL 18 in wasm, `btree_gist` loaded) over TCP, so code
 * written for a real server (`pg`, Prisma's adapter, the migration engine) runs
 * against it unchanged. There is one database (`postgres`; any user and password are
 * accepted) and ONE backend session, shared by whoever is connected.
 *
 * Concurrent clients: pglite-socket's server serves one TCP connection at a time and
 * rejects any other at once (the socket is closed; `pg` says "Connection terminated
 * unexpectedly"), even one arriving a moment after the previous client disconnected,
 * before the server has noticed. It cannot safely serve more (clients' protocol
 * messages would interleave in the one session). So we put a FIFO queue in front:
 * a second client is accepted but gets no answer until every earlier client has
 * disconnected; then it is served normally. Hence: give each user a pool of `max: 1`
 * (Prisma: `createPrismaAdapter(url, { max: 1 })`), run users one after the other
 * (migrate, then start the app), and know that a client holding its connection
 * (an open psql, a pool's idle connection until its idle timeout) makes the others
 * wait; bound the wait with `pg`'s `connectionTimeoutMillis` if that matters.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const host = options.host ?? "127.0.0.1";
  const db = await PGlite.create(options.dataDir, { extensions: { btree_gist } });
  const backend = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1", maxConnections: 1 });
  const queue = connectionQueue(backend);
  const front = net.createServer(queue.accept);
  try {
    await backend.start();
    front.listen(options.port, host);
    await once(front, "listening");
  } catch (error) {
    await backend.stop();
    await db.close();
    throw error;
  }
  const { port } = front.address() as net.AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    url: `postgresql://postgres:postgres@${host}:${port}/postgres?sslmode=disable`,
    stop: () => (stopping ??= stopAll(front, queue, backend, db)),
  };
}

interface ConnectionQueue {
  /** `net.Server` connection listener: enqueue the client. */
  accept(client: net.Socket): void;
  /** Disconnects the served client and every waiting one. */
  disconnectAll(): void;
}

/** Serves clients one at a time, in arrival order, each piped to its own `backend` connection. */
function connectionQueue(backend: PGLiteSocketServer): ConnectionQueue {
  const clients = new Set<net.Socket>();
  let tail = Promise.resolve();
  return {
    accept(client) {
      clients.add(client);
      client.on("error", () => client.destroy()).on("close", () => clients.delete(client));
      tail = tail.then(() => serve(client, backend)).catch(() => {
        client.destroy();
      });
    },
    disconnectAll: () => clients.forEach((client) => client.destroy()),
  };
}

/** Pipes `client` to a new backend connection; resolves once both are closed. */
async function serve(client: net.Socket, backend: PGLiteSocketServer): Promise<void> {
  // The backend drops a connection made before it has processed the previous close.
  while (backend.getStats().activeConnections > 0) await sleep(2);
  if (client.destroyed) return;
  const [host, port] = splitHostPort(backend.getServerConn());
  const upstream = net.connect(port, host);
  const closeBoth = () => [client, upstream].forEach((socket) => socket.destroy());
  const closed = Promise.all([client, upstream].map((socket) => new Promise((resolve) => socket.once("close", resolve))));
  for (const socket of [client, upstream]) socket.on("error", closeBoth).on("close", closeBoth);
  client.pipe(upstream).pipe(client);
  await closed;
}

async function stopAll(front: net.Server, queue: ConnectionQueue, backend: PGLiteSocketServer, db: PGlite): Promise<void> {
  const closed = new Promise((resolve) => front.close(resolve));
  queue.disconnectAll();
  await closed;
  await backend.stop();
  await db.close();
}

function splitHostPort(conn: string): [string, number] {
  const at = conn.lastIndexOf(":");
  return [conn.slice(0, at), Number(conn.slice(at + 1))];
}
