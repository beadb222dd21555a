import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activity } from '../../src/model/activity.js';
import type { NowFilter } from '../../src/model/now-query.js';
import { expectedBody } from '../support/expected-body.js';
import { NaiveOracle } from '../support/naive-oracle.js';
import { credentials, post, startTestServer, type TestServer } from '../support/test-server.js';

const SOURCES = ['Direct', 'Organic Search', 'Push', 'Email'];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'App'];
const OSES = ['Android', 'iOS', 'Windows', 'Linux'];
const DEVICES = ['Mobile', 'Desktop', 'Tablet'];

interface Event {
  readonly user: string;
  /** Seconds before the upload time; undefined sends no ts. */
  readonly ago: number | undefined;
  readonly source?: string;
  readonly browser?: string;
  readonly os?: string;
  readonly device?: string;
  readonly name: string;
}

const optional = (values: string[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
const eventArb: fc.Arbitrary<Event> = fc.record({
  user: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'),
  ago: fc.option(fc.integer({ min: 0, max: 700 }), { nil: undefined }),
  source: optional(SOURCES),
  browser: optional(BROWSERS),
  os: optional(OSES),
  device: optional(DEVICES),
  name: fc.constantFrom('App Launched', 'Charged', 'Search'),
});
/** Uploads separated by some seconds, each with a few events and maybe an invalid record. */
const scenarioArb = fc.array(
  fc.record({
    advance: fc.integer({ min: 0, max: 200 }),
    events: fc.array(eventArb, { minLength: 1, maxLength: 12 }),
    withInvalid: fc.boolean(),
  }),
  { minLength: 1, maxLength: 6 },
);

function toRecord(event: Event, at: number): Record<string, unknown> {
  const session: Record<string, string> = {};
  if (event.source) session.source = event.source;
  if (event.browser) session.browser = event.browser;
  if (event.os) session.os = event.os;
  if (event.device) session.device = event.device;
  return {
    identity: event.user,
    type: 'event',
    evtName: event.name,
    ...(event.ago !== undefined && { ts: at - event.ago }),
    session,
  };
}

function toActivity(event: Event, at: number): Activity {
  return {
    user: event.user,
    ts: event.ago === undefined ? at : at - event.ago,
    sessionSource: event.source,
    browser: event.browser,
    os: event.os,
    device: event.device,
    event: event.name,
  };
}

describe('upload then now.json over HTTP, against the oracle', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers exactly what the oracle predicts, for every split, the new breakdown and filters', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const account = await server.accounts.create({ name: `run ${run++}`, region: 'eu1' });
        const headers = credentials(account);
        const oracle = new NaiveOracle({ horizonSeconds: 1800, valueCap: 256 });
        for (const upload of scenario) {
          server.clock.now += upload.advance;
          const at = server.clock.now;
          const records = upload.events.map((event) => toRecord(event, at));
          if (upload.withInvalid) records.splice(1, 0, { type: 'event', evtName: 'no identity' });
          const response = await post(`${server.url}/1/upload`, { d: records }, headers);
          expect(response.status).toBe(200);
          expect(response.body).toMatchObject({ status: 'success', processed: upload.events.length });
          expect((response.body as { unprocessed: unknown[] }).unprocessed).toHaveLength(
            upload.withInvalid ? 1 : 0,
          );
          oracle.record(
            upload.events.map((event) => toActivity(event, at)),
            at,
          );
        }
        const all = { user_type: true, session_source: true, browser: true, os: true, device: true };
        for (const query of [
          {},
          { user_type: true },
          all,
          { browser: true, device: true },
          { ...all, window: 600 },
          { ...all, filter: { device: ['Mobile'], browser: ['Chrome', 'App'] } },
          { user_type: true, os: true, filter: { os: ['iOS', 'Unknown'] }, window: 900 },
          { user_type: true, browser: true, event: true },
          { device: true, event: true, filter: { event: ['Charged', 'Search'], device: ['Mobile'] } },
        ] as Record<string, unknown>[]) {
          const response = await post(`${server.url}/1/now.json`, query, headers);
          const expected = expectedBody(
            oracle.query(
              {
                window: (query as { window?: number }).window ?? 300,
                userType: 'user_type' in query,
                splits: (['session_source', 'browser', 'os', 'device', 'event'] as const).filter(
                  (d) => d in query,
                ),
                timeline: false,
                ...('filter' in query && { filter: query.filter as NowFilter }),
              },
              server.clock.now,
            ),
          );
          // An extension asked: the answer says when it is for.
          if ('window' in query || 'filter' in query || 'event' in query) expected.as_of = server.clock.now;
          expect(response.status).toBe(200);
          expect(response.body).toEqual(expected);
          // Key order is part of the contract: count-descending splits, fixed top-level order.
          expect(response.text).toBe(JSON.stringify(expected));
        }
      }),
      { numRuns: 40 },
    );
  });
});
