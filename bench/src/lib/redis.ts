/**
 * A few Redis commands over RESP, for the Redis scenario's set-up and clean-up
 * (is Redis there; delete the run's keys). Kept here so the bench needs no Redis
 * client dependency of its own.
 */
import { connect } from 'node:net';

type Reply = string | number | null | Reply[] | Error;

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

// Parses one reply at `at`; returns it and where the next starts, or undefined when incomplete.
function parse(buffer: Buffer, at: number): [Reply, number] | undefined {
  const lineEnd = buffer.indexOf('\r\n', at);
  if (lineEnd < 0) return undefined;
  const kind = String.fromCharCode(buffer[at]!);
  const line = buffer.toString('utf8', at + 1, lineEnd);
  const next = lineEnd + 2;
  if (kind === '+') return [line, next];
  if (kind === '-') return [new Error(line), next];
  if (kind === ':') return [Number(line), next];
  if (kind === '$') {
    const length = Number(line);
    if (length < 0) return [null, next];
    if (buffer.length < next + length + 2) return undefined;
    return [buffer.toString('utf8', next, next + length), next + length + 2];
  }
  if (kind === '*') {
    const count = Number(line);
    if (count < 0) return [null, next];
    const items: Reply[] = [];
    let position = next;
    for (let i = 0; i < count; i++) {
      const item = parse(buffer, position);
      if (item === undefined) return undefined;
      items.push(item[0]);
      position = item[1];
    }
    return [items, position];
  }
  throw new Error(`unexpected RESP type ${kind}`);
}

/** Sends one command to Redis at `url` (redis://host:port) and resolves with its reply. */
function redisCommand(url: string, args: readonly string[], timeoutMs = 2000): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    let buffer = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('Redis did not answer in time')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(encode(args)));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const reply = parse(buffer, 0);
      if (reply === undefined) return;
      socket.end();
      if (reply[0] instanceof Error) reject(reply[0]);
      else resolve(reply[0]);
    });
  });
}

/** Whether Redis answers PING at `url`. */
export async function redisAvailable(url: string): Promise<boolean> {
  try {
    return (await redisCommand(url, ['PING'])) === 'PONG';
  } catch {
    return false;
  }
}

/** Deletes every key starting with `prefix` (SCAN + DEL, bounded); returns how many. */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  for (let round = 0; round < 10_000; round++) {
    const reply = (await redisCommand(url, ['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [string, string[]];
    cursor = reply[0];
    if (reply[1].length > 0) deleted += (await redisCommand(url, ['DEL', ...reply[1]])) as number;
    if (cursor === '0') break;
  }
  return deleted;
}
