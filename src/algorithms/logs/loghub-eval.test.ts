import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreParsing, averageScores, labelledFromRows, assignmentsCsv } from './loghub-eval.js';

// Truth: lines 0,1 → A; 2,3 → B; 4 → C.
const trueT = ['A <*>', 'A <*>', 'B <*>', 'B <*>', 'C'];

test('GA counts lines whose parsed group equals their true group', () => {
  // B split into two groups: only A and C lines correct → 3/5.
  const parsed = ['A <*>', 'A <*>', 'B x', 'B y', 'C'];
  const s = scoreParsing({ trueGroup: trueT, trueTemplate: trueT, parsedGroup: parsed, parsedTemplate: parsed });
  assert.equal(s.ga, 3 / 5);
  // A and B merged: only C correct → 1/5.
  const merged = ['<*> <*>', '<*> <*>', '<*> <*>', '<*> <*>', 'C'];
  assert.equal(scoreParsing({ trueGroup: trueT, trueTemplate: trueT, parsedGroup: merged, parsedTemplate: merged }).ga, 1 / 5);
});

test('FGA is the F1 of exactly recovered groups', () => {
  const parsed = ['A <*>', 'A <*>', 'B x', 'B y', 'C'];
  const s = scoreParsing({ trueGroup: trueT, trueTemplate: trueT, parsedGroup: parsed, parsedTemplate: parsed });
  // 2 exact groups (A, C); precision 2/4, recall 2/3.
  const p = 2 / 4;
  const r = 2 / 3;
  assert.ok(Math.abs(s.fga - (2 * p * r) / (p + r)) < 1e-12);
});

test('PA compares template strings line by line, FTA needs the whole parsed group under one equal true template', () => {
  // Grouping perfect, but B printed with a wrong template and C right.
  const parsed = ['A <*>', 'A <*>', 'B b', 'B b', 'C'];
  const s = scoreParsing({ trueGroup: trueT, trueTemplate: trueT, parsedGroup: parsed, parsedTemplate: parsed });
  assert.equal(s.ga, 1);
  assert.equal(s.pa, 3 / 5);
  // 2 of 3 parsed templates correct; 3 true templates.
  assert.ok(Math.abs(s.fta - 2 / 3) < 1e-12);
  // A parsed template covering lines of two true templates is wrong even if its string equals one of them.
  const over = ['A <*>', 'A <*>', 'A <*>', 'A <*>', 'C'];
  const o = scoreParsing({ trueGroup: trueT, trueTemplate: trueT, parsedGroup: over, parsedTemplate: over });
  assert.equal(o.pa, 3 / 5);
  assert.ok(Math.abs(o.fta - (2 * (1 / 2) * (1 / 3)) / (1 / 2 + 1 / 3)) < 1e-12);
});

test('mismatched lengths are an error; averages are per-metric means', () => {
  assert.throws(() => scoreParsing({ trueGroup: ['a'], trueTemplate: ['a'], parsedGroup: [], parsedTemplate: [] }), /length mismatch/);
  const a = averageScores([
    { ga: 1, fga: 1, pa: 0, fta: 0.5, pairF1: 1, lines: 1, trueGroups: 1, parsedGroups: 1 },
    { ga: 0, fga: 0.5, pa: 1, fta: 0.5, pairF1: 0, lines: 1, trueGroups: 1, parsedGroups: 1 },
  ]);
  assert.deepEqual(a, { ga: 0.5, fga: 0.75, pa: 0.5, fta: 0.5, pairF1: 0.5 });
});

test('loader groups by template string (corrected) or EventId (original) and strips \\r; CSV output quotes', () => {
  const rows = [['LineId', 'Content', 'EventId', 'EventTemplate'], ['1', 'x 1\r', 'E1', 'x <*>\r'], ['2', 'y, 2', 'E2', 'x <*>']];
  const c = labelledFromRows(rows, 'corrected');
  assert.deepEqual(c.groups, ['x <*>', 'x <*>']);
  assert.deepEqual(c.contents, ['x 1', 'y, 2']);
  assert.deepEqual(labelledFromRows(rows, 'original').groups, ['E1', 'E2']);
  assert.throws(() => labelledFromRows([['LineId', 'Content']], 'corrected'), /no "EventId" column/);
  assert.equal(assignmentsCsv([1, 2], ['a, b', 'say "hi"']), 'LineId,EventTemplate\n1,"a, b"\n2,"say ""hi"""\n');
});
