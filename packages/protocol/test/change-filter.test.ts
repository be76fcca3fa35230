import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isChangeData, isRemoval, judgeEvent, parseFilter, type FilterVerdict } from '../src/index.js';

const inView = parseFilter("data.session_id = 'abc' and data.resolved = false");
const row = (session_id: string, resolved: boolean) => ({ id: 'r1', session_id, resolved });
const change = (data: unknown, old: unknown) => ({ table: 'alerts', action: 'X', data, old_data: old });

describe('judgeEvent', () => {
  it('judges change events on the new row, then on the old one', () => {
    const cases: Array<[string, unknown, FilterVerdict]> = [
      ['insert into the view', change(row('abc', false), null), 'deliver'],
      ['insert outside it', change(row('xyz', false), null), 'skip'],
      ['update inside it', change(row('abc', false), row('abc', false)), 'deliver'],
      ['update into it', change(row('abc', false), row('abc', true)), 'deliver'],
      ['update out of it', change(row('abc', true), row('abc', false)), 'remove'],
      ['update outside it', change(row('abc', true), row('xyz', false)), 'skip'],
      ['delete from it', change(null, row('abc', false)), 'deliver'],
      ['delete outside it', change(null, row('abc', true)), 'skip'],
      ['neither row', change(null, null), 'skip'],
      ['old_data missing is not a change event', { data: row('abc', true) }, 'skip'],
    ];
    for (const [label, data, verdict] of cases) assert.equal(judgeEvent(inView, data), verdict, label);
  });

  it('judges other events on their data alone', () => {
    const direct = parseFilter("level = 'high'");
    assert.equal(judgeEvent(direct, { level: 'high' }), 'deliver');
    assert.equal(judgeEvent(direct, { level: 'low' }), 'skip');
    assert.equal(judgeEvent(direct, null), 'skip');
    assert.equal(judgeEvent(direct, [{ old_data: 1 }]), 'skip');
  });

  it('tells change data and removals apart', () => {
    assert.equal(isChangeData({ data: 1, old_data: null }), true);
    assert.equal(isChangeData({ data: 1 }), false);
    assert.equal(isChangeData([]), false);
    assert.equal(isRemoval({ removed: true }), true);
    assert.equal(isRemoval({ removed: 'true' }), false);
    assert.equal(isRemoval({}), false);
  });
});
