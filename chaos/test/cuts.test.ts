import { test } from 'node:test';
import { cutsExperiment } from '../src/experiments/cuts.js';
import { assertPassed, shortRun } from './experiment-assert.js';

test('connection cuts: every client kind gets each acknowledged event once, in order, or a reset', async () => {
  const options = shortRun(4000);
  const result = await cutsExperiment(options);
  assertPassed(result, options.seed);
});
