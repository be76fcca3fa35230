/**
 * The delivery check of the live fuzz run: what a side subscriber received against
 * what the hub acknowledged. Sequential publishes must arrive in acknowledgement
 * order; publishes sent concurrently (one group) may arrive in any order among
 * themselves, but each request's events stay contiguous and in array order
 * (protocol.md §10, "Batches are all or nothing"), and a group never mixes with the
 * events before or after it.
 */

/** An event the hub acknowledged with 201 and that the side subscribers must get. */
export interface ExpectedEvent {
  id: string;
  topic: string;
  type: string;
  /** `JSON.stringify` of the published data (JSON has no -0, so text is compared). */
  data: string;
  /** Publishes awaited together share a group; groups are sequential. */
  group: number;
  /** Which request of the group published it. */
  request: number;
}

/** Returns what is wrong with `got` (ids in arrival order), or undefined when it is exactly right. */
export function deliveryProblem(got: readonly string[], want: readonly ExpectedEvent[]): string | undefined {
  if (new Set(got).size !== got.length) return `an event arrived twice (${got.length} events, ${new Set(got).size} distinct)`;
  if (got.length !== want.length) {
    const missing = want.filter((e) => !got.includes(e.id)).map((e) => e.id);
    const extra = got.filter((id) => !want.some((e) => e.id === id));
    return `got ${got.length} events, want ${want.length}; missing ${JSON.stringify(missing.slice(0, 3))}, unexpected ${JSON.stringify(extra.slice(0, 3))}`;
  }
  for (let start = 0; start < want.length;) {
    let end = start;
    while (end < want.length && want[end]!.group === want[start]!.group) end++;
    const arrived = got.slice(start, end);
    const group = want.slice(start, end);
    if (
      [...arrived].sort().join('\n') !==
      group
        .map((e) => e.id)
        .sort()
        .join('\n')
    ) {
      return `events ${start}..${end - 1} are not the ones acknowledged then: got ${JSON.stringify(arrived.slice(0, 3))}, want ${JSON.stringify(group.slice(0, 3).map((e) => e.id))}`;
    }
    for (const request of new Set(group.map((e) => e.request))) {
      const positions = group.filter((e) => e.request === request).map((e) => arrived.indexOf(e.id));
      if (positions.some((position, i) => i > 0 && position !== positions[i - 1]! + 1)) {
        return `the events of one request arrived split or out of order at ${start}: positions ${JSON.stringify(positions)}`;
      }
    }
    start = end;
  }
  return undefined;
}
