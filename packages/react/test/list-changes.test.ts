import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeraldEvent } from '@herald/client';
import { parseFilter } from '@herald/protocol';
import { applyEvent, idOf, type ListRules } from '../src/list-changes.js';

interface Alert {
  id: number;
  session_id: string;
  resolved: boolean;
  note?: string;
}

const rules = (overrides: Partial<ListRules<Alert>> = {}): ListRules<Alert> => ({
  getKey: idOf as (a: Alert) => number,
  apply: undefined,
  filter: undefined,
  prepend: false,
  ...overrides,
});
const event = (type: string, data: unknown, removed?: true): HeraldEvent =>
  ({ id: `e-${type}`, topic: 'alerts', type, data, timestamp: 't', ...(removed ? { removed } : {}) }) as HeraldEvent;
const change = (type: 'insert' | 'update' | 'delete', data: Alert | null, old: Alert | null, removed?: true) =>
  event(type, { table: 'alerts', action: type.toUpperCase(), data, old_data: old, timestamp: 't' }, removed);

const a1: Alert = { id: 1, session_id: 's1', resolved: false };
const a2: Alert = { id: 2, session_id: 's1', resolved: false };
const a3: Alert = { id: 3, session_id: 's2', resolved: false };

/** Applies events in order from `start`. */
function run(start: Alert[], events: HeraldEvent[], r = rules()): Alert[] {
  return events.reduce((items, e) => applyEvent(items, e, r), start);
}

describe('applyEvent', () => {
  it("applies Herald's change events by key without configuration: insert, update (whole row), delete", () => {
    const items = run(
      [],
      [change('insert', a1, null), change('insert', a2, null), change('update', { ...a1, resolved: true }, a1), change('delete', null, a2)],
    );
    assert.deepEqual(items, [{ ...a1, resolved: true }]);
    // An update replaces the row: a column set to null is null, not merged away.
    const replaced = run([{ ...a1, note: 'x' }], [change('update', { ...a1 }, { ...a1, note: 'x' })]);
    assert.deepEqual(replaced, [a1]);
  });

  it('an update that changes the key moves the row', () => {
    assert.deepEqual(run([a1, a2], [change('update', { ...a1, id: 9 }, a1)]), [a2, { ...a1, id: 9 }]);
  });

  it('a removal (removed: true) removes the row, whatever its type', () => {
    assert.deepEqual(run([a1, a2], [change('update', { ...a1, resolved: true }, a1, true)]), [a2]);
    assert.deepEqual(run([a1, a2], [event('update', { ...a2, resolved: true }, true)]), [a1]);
  });

  it('bulk deletes: data an array of keys or of items; keys compare as text', () => {
    const ids = [107, 108, 109].map((id) => ({ ...a1, id }));
    assert.deepEqual(
      run(ids, [event('delete', [107, 108])]).map((a) => a.id),
      [109],
    );
    assert.deepEqual(
      run(ids, [event('delete', ['109', { ...a1, id: 107 }])]).map((a) => a.id),
      [108],
    );
    assert.deepEqual(
      run(ids, [event('delete', 108)]).map((a) => a.id),
      [107, 109],
      'a single key',
    );
    assert.deepEqual(run(ids, [event('delete', [])]), ids);
  });

  it('create, insert and update events carry the item; update merges; delete removes it', () => {
    const items = run([], [event('create', a1), event('insert', a2), event('update', { id: 1, note: 'n' }), event('delete', a2)]);
    assert.deepEqual(items, [{ ...a1, note: 'n' }]);
  });

  it('applying an event twice gives the same list (the load may already reflect it)', () => {
    const events = [change('insert', a1, null), change('update', { ...a1, note: 'x' }, a1), event('delete', [2]), change('delete', null, a3)];
    for (const e of events) {
      const once = applyEvent([a1, a2, a3], e, rules());
      assert.deepEqual(applyEvent(once, e, rules()), once);
    }
  });

  it('a filter keeps only its view, also when the hub sent everything (another view shares the pattern)', () => {
    const r = rules({ filter: parseFilter("data.session_id = 's1' and data.resolved = false") });
    const items = run(
      [],
      [
        change('insert', a1, null),
        change('insert', a3, null),
        change('insert', a2, null),
        change('update', { ...a1, resolved: true }, a1),
        change('update', { ...a3, session_id: 's1' }, a3),
        change('delete', null, a2),
      ],
      r,
    );
    assert.deepEqual(items, [{ ...a3, session_id: 's1' }]);
  });

  it('other types go to apply; keyless items are not kept; prepend puts new items first', () => {
    const seen: string[] = [];
    const r = rules({ apply: (items, e) => (seen.push(e.type), items.slice(1)) });
    assert.deepEqual(run([a1, a2], [event('cleared', null)], r), [a2]);
    assert.deepEqual(seen, ['cleared']);
    assert.deepEqual(run([a1], [event('create', { text: 'no id' })]), [a1]);
    assert.deepEqual(run([a1], [event('create', a2)], rules({ prepend: true })), [a2, a1]);
  });

  it('returns the same array when nothing changed', () => {
    const items = [a1];
    assert.equal(applyEvent(items, event('delete', [99]), rules()), items);
    assert.equal(applyEvent(items, event('other', null), rules()), items);
  });
});
