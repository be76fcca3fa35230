import type { AddressInfo } from 'node:net';
import { createHub, type Hub, type HubOptions } from '../../src/index.js';

/** A real hub listening on an ephemeral loopback port. */
export interface RunningHub {
  hub: Hub;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Starts a hub on port 0 with quiet logs and short shutdown timings unless overridden. */
export async function startHub(options: HubOptions = {}): Promise<RunningHub> {
  const hub = createHub({ logger: false, shutdownTimeout: 2000, shutdownJitter: 50, ...options });
  const server = await hub.listen(0, '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  return { hub, port, url: `http://127.0.0.1:${port}`, close: () => hub.close() };
}

/** POSTs a JSON body (or raw string) to /publish and returns status and parsed body. */
export async function publish(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Publishes events one request at a time and returns their ids in order. */
export async function publishMany(url: string, topic: string, count: number, start = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = start; i < start + count; i++) {
    const { status, body } = await publish(url, { topic, type: 'test', data: { n: i } });
    if (status !== 201) throw new Error(`publish failed: ${status} ${JSON.stringify(body)}`);
    ids.push(...(body.ids as string[]));
  }
  return ids;
}

/** Reads one sample from /metrics, named with its labels as Prometheus prints them (0 when absent). */
export async function metric(url: string, sample: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or the deadline passes (then throws with `what`). */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
