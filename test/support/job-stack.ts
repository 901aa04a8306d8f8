// Pieces the async-job tests share whichever way they start the stack: the local HTTP server the job items' image
// URLs point at, and the clients a test uses to read job state straight from JetStream.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connectNats,
  JobQueue,
  JobStore,
  type JobQueueSettings,
  type NatsConnection,
} from '@argus/messaging';

export interface PhotoServer {
  /** `http://127.0.0.1:<port>`; an item's image URL is this followed by a key of the photo map. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the photos by path on a free loopback port, 404 for any other path. The map is read per request, so photos
 * added after the start are served too.
 */
export async function servePhotos(photos: ReadonlyMap<string, Buffer>): Promise<PhotoServer> {
  const server = createServer((request, response) => {
    const photo = photos.get(request.url ?? '');
    if (!photo) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        // Resolves on an error too (the server was not running): closing is cleanup, it must not fail the suite.
        server.close(() => {
          resolve();
        });
      }),
  };
}

export interface JobClients {
  connection: NatsConnection;
  store: JobStore;
  queue: JobQueue;
}

/** The job store and queue on a connection of the test's own, to count what the stack wrote; `settings` are the
 * stack's, since the test reads through the layout the stack created rather than creating one (no ensure()). */
export async function connectJobClients(
  natsUrl: string,
  name: string,
  settings: JobQueueSettings,
): Promise<JobClients> {
  const connection = await connectNats({ servers: [natsUrl], name });
  return {
    connection,
    store: new JobStore(connection, settings.ttlSeconds),
    queue: new JobQueue(connection, settings),
  };
}
