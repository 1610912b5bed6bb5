/**
 * The local airlock store's request lock (proper-lockfile): concurrent changes to one request
 * are serialised (no decision lost), and a lock a killed process left behind delays the next
 * reviewer only until it goes stale, never refuses them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileAirlockStore } from '../../lib/airlock/store';
import type { OutputRequest } from '../../lib/airlock/workflow';

const ID = 'req-20261122-0000abcd';
let root: string;
let store: FileAirlockStore;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-airlock-lock-'));
  store = new FileAirlockStore(path.join(root, 'airlock'));
  const request = {
    schemaVersion: 1,
    id: ID,
    projectId: 'ncl-winter-planning',
    requester: 'NCL-R-0001',
    statement: 'counts by month',
    state: 'submitted',
    submittedAt: '2026-11-22T10:00:00Z',
    files: [],
    approvals: [],
    history: [],
  } as unknown as OutputRequest;
  await store.create(request, new Map(), new Map());
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** One change: append a note to the request's history (read, wait a little, save). */
const note = (text: string) =>
  store.update(ID, async (current, save) => {
    await new Promise((r) => setTimeout(r, 20));
    await save({ ...current, history: [...current.history, { state: current.state, time: '2026-11-22T10:00:00Z', note: text }] } as unknown as OutputRequest);
  });

test('concurrent changes to one request are all kept', async () => {
  await Promise.all(Array.from({ length: 8 }, (_, i) => note(`change ${i}`)));
  const history = (await store.read(ID)).history as unknown as { note: string }[];
  expect(history.map((h) => h.note).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `change ${i}`).sort());
});

test('a lock left by a killed process is broken once stale, and the change goes through', async () => {
  // What a holder killed mid-change leaves: the lock folder, no longer refreshed.
  const lock = path.join(store.requestDir(ID), '.lock');
  fs.mkdirSync(lock);
  const started = Date.now();
  await note('after the kill');
  const waited = Date.now() - started;
  expect((await store.read(ID)).history).toHaveLength(1);
  // It was honoured while it could still belong to a live process (stale after 5 s)...
  expect(waited).toBeGreaterThanOrEqual(4_000);
  expect(fs.existsSync(lock)).toBe(false);
}, 30_000);

test('a plain lock file of the earlier store, left by a killed process, does not block', async () => {
  const lock = path.join(store.requestDir(ID), '.lock');
  fs.writeFileSync(lock, '12345');
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(lock, old, old);
  await note('after the old lock');
  expect((await store.read(ID)).history).toHaveLength(1);
});
