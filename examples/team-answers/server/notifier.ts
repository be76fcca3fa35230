// How the team's Django back end announced changes: PUBLISH on the Redis channel
// `team_answers_updates`, in its own message format. Herald's `--redis-bridge` turns each
// message into an event, so neither the back end nor its messages change.
import { Redis } from 'ioredis';
import type { TeamAnswer } from './answers.js';

export const CHANNEL = 'team_answers_updates';

export class RedisNotifier {
  readonly #redis: Redis;
  readonly #channel: string;

  constructor(url: string, channel = CHANNEL) {
    // ioredis queues commands while it reconnects, so a Redis blip delays a message rather than failing the request.
    this.#redis = new Redis(url);
    this.#channel = channel;
  }

  created(answer: TeamAnswer): Promise<void> {
    return this.#send({ type: 'create', data: answer });
  }

  /** One message for one or many ids: the team's `delete` always carries an array. */
  deleted(ids: readonly number[]): Promise<void> {
    return ids.length === 0 ? Promise.resolve() : this.#send({ type: 'delete', data: ids });
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  async #send(message: { type: string; data: unknown }): Promise<void> {
    await this.#redis.publish(this.#channel, JSON.stringify({ ...message, timestamp: new Date().toISOString() }));
  }
}
