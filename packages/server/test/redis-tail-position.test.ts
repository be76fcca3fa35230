import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TailPosition, type LogState, type StreamEntry } from '../src/broker/redis-tail-position.js';

const entry = (id: string, epoch: string, n?: number): StreamEntry => [id, ['e', epoch, ...(n === undefined ? [] : ['n', String(n)]), 't', 'x']];
const state = (overrides: Partial<LogState>): LogState => ({ epoch: 'aaaaaaaaaa', seq: 0, first: undefined, lastId: undefined, last: undefined, ...overrides });

describe('TailPosition (pure)', () => {
  it('accepts the next sequence number and flags any other, or another epoch', () => {
    const position = new TailPosition();
    position.startAt(state({ seq: 5, first: 3, lastId: '10-0', last: 5 }));
    assert.equal(position.gapBefore(entry('11-0', 'aaaaaaaaaa', 6)), undefined);
    assert.equal(position.gapBefore(entry('11-0', 'aaaaaaaaaa', 9)), 'expired');
    assert.equal(position.gapBefore(entry('11-0', 'bbbbbbbbbb', 1)), 'unknown_id');
    position.advance(entry('12-0', 'aaaaaaaaaa', 7));
    assert.equal(position.gapBefore(entry('13-0', 'aaaaaaaaaa', 8)), undefined);
  });

  it('starts an emptied log at its last sequence number, and cannot check entries from before numbering', () => {
    const position = new TailPosition();
    position.startAt(state({ seq: 40 }));
    assert.equal(position.lastId, '0-0');
    assert.equal(position.gapBefore(entry('1-0', 'aaaaaaaaaa', 41)), undefined);
    position.advance(entry('1-0', 'aaaaaaaaaa'));
    assert.equal(position.gapBefore(entry('2-0', 'aaaaaaaaaa', 99)), undefined, 'an unnumbered entry gives nothing to compare with');
  });

  it('recovers: nothing missed, trimmed past (reported once), or a new epoch (read from its start)', () => {
    const position = new TailPosition();
    position.startAt(state({ seq: 5, first: 1, lastId: '10-0', last: 5 }));
    assert.equal(position.recover(state({ seq: 9, first: 2, lastId: '20-0', last: 9 })), undefined);
    assert.equal(position.recover(state({ seq: 9, first: 6, lastId: '20-0', last: 9 })), undefined, 'the next entry is still there');
    assert.equal(position.recover(state({ seq: 90, first: 41, lastId: '90-0', last: 90 })), 'expired');
    assert.equal(position.gapBefore(entry('50-0', 'aaaaaaaaaa', 41)), undefined, 'the gap is not reported twice');
    assert.equal(position.recover(state({ seq: 0 })), undefined);
    position.startAt(state({ seq: 3 }));
    assert.equal(position.recover(state({ seq: 7 })), 'expired', 'appended and trimmed away while this node was gone');
    assert.equal(position.recover(state({ epoch: 'cccccccccc', seq: 2, first: 1, lastId: '5-0', last: 2 })), 'unknown_id');
    assert.deepEqual([position.lastId, position.epoch, position.lastSeq], ['0-0', 'cccccccccc', 0]);
  });
});
