import { REMOVED_FIELD } from '@herald/protocol';
import { LogEvent } from './log-event.js';

/**
 * An event as it reaches a filtered subscriber whose view it leaves: the same
 * envelope with `"removed": true` appended. Its position and id are the event's,
 * so resume and dedupe treat it as the event itself.
 */
class RemovalEvent extends LogEvent {
  readonly #source: LogEvent;
  #json: string | undefined;

  constructor(source: LogEvent) {
    super({ ...source.envelope, [REMOVED_FIELD]: true } as LogEvent['envelope'], source.position, source.acceptedAt);
    this.#source = source;
  }

  override get json(): string {
    // Built from the published event's JSON (serialized once, shared), which
    // always ends with `}`: the marker goes last, so every field before it is
    // byte for byte the published event's, and the data is never stringified again.
    this.#json ??= `${this.#source.json.slice(0, -1)},${JSON.stringify(REMOVED_FIELD)}:true}`;
    return this.#json;
  }
}

// One removal per log event, shared by every subscriber that gets it as one: at
// most one extra encoding per event and transport, never one per subscriber.
// Weak, so a removal lives exactly as long as the event it stands for.
const removals = new WeakMap<LogEvent, LogEvent>();

/** The removal form of `event`, built on first use and shared. */
export function removalOf(event: LogEvent): LogEvent {
  let removal = removals.get(event);
  if (removal === undefined) {
    removal = new RemovalEvent(event);
    removals.set(event, removal);
  }
  return removal;
}
