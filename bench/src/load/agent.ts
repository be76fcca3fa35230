/**
 * A load-generator process. The harness starts one or more, pinned to the
 * generator core, and drives them over the IPC channel: open subscriber groups,
 * reset and read their counters, run publish steps, close everything.
 */
import { openPublisher, type Publisher, type PublishSpec } from './publisher.js';
import { SubscriberGroup, type GroupSpec } from './subscribers.js';

/** Requests the harness sends to an agent. */
export type AgentRequest =
  | { op: 'subscribe'; group: string; spec: GroupSpec }
  | { op: 'counts' }
  | { op: 'reset' }
  | { op: 'publisher'; spec: PublishSpec }
  | { op: 'publish'; step: Pick<PublishSpec, 'rate' | 'window' | 'durationMs' | 'batch'> }
  | { op: 'close' };

/** An agent's reply: `id` of the request plus a result or an error message. */
export interface AgentReply {
  id: number;
  result?: unknown;
  error?: string;
}

const groups = new Map<string, SubscriberGroup>();
let publisher: Publisher | undefined;

async function handle(request: AgentRequest): Promise<unknown> {
  switch (request.op) {
    case 'subscribe': {
      const group = new SubscriberGroup(request.spec);
      groups.set(request.group, group);
      return group.open();
    }
    case 'counts':
      return Object.fromEntries([...groups].map(([name, group]) => [name, group.counts()]));
    case 'reset':
      for (const group of groups.values()) group.reset();
      return true;
    case 'publisher':
      publisher?.close();
      publisher = await openPublisher(request.spec);
      return true;
    case 'publish':
      if (publisher === undefined) throw new Error('no publisher opened');
      return publisher.run(request.step);
    case 'close':
      for (const group of groups.values()) group.close();
      groups.clear();
      publisher?.close();
      publisher = undefined;
      return true;
  }
}

if (process.send === undefined) {
  process.stderr.write('bench agent: start me with an IPC channel (the harness does)\n');
  process.exit(2);
}

process.on('message', (message: { id: number; request: AgentRequest }) => {
  handle(message.request).then(
    (result) => process.send!({ id: message.id, result } satisfies AgentReply),
    (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies AgentReply),
  );
});
// The harness going away (or closing the channel) ends the agent: no orphans.
process.on('disconnect', () => process.exit(0));
