import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

// The official CleverTap Node client (npm `clevertap`), unchanged but for its base URL.
const CleverTap = createRequire(import.meta.url)('clevertap') as {
  init(id: string, passcode: string, region: string): OfficialClient;
};
interface OfficialClient {
  api: { apiEndpoint: string };
  upload(records: unknown[]): Promise<unknown>;
  realTimeCounts(query: Record<string, boolean>): Promise<unknown>;
}

describe('the official clevertap npm client', () => {
  let server: TestServer;
  let client: OfficialClient;
  beforeAll(async () => {
    server = await startTestServer();
    client = CleverTap.init(server.account.id, server.account.passcode, 'eu1');
    client.api.apiEndpoint = `${server.url}/1`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('uploads events and profiles, then reads real-time counts', async () => {
    const now = server.clock.now;
    const uploaded = await client.upload([
      { type: 'event', identity: 'ada', ts: now - 30, evtName: 'App Launched', evtData: {} },
      { type: 'event', FBID: '34322423', evtName: 'Product viewed', evtData: { Price: 59.99 } },
      { type: 'profile', identity: 'ada', profileData: { Name: 'Ada' } },
      { type: 'event', identity: 'old', ts: now - 400, evtName: 'App Launched', evtData: {} },
    ]);
    expect(uploaded).toEqual({ status: 'success', processed: 4, unprocessed: [] });
    expect(await client.realTimeCounts({})).toEqual({ status: 'success', count: 2 });
    expect(await client.realTimeCounts({ user_type: true })).toEqual({
      status: 'success',
      count: 2,
      user_type: { new: 2, returning: 0 },
    });
  });

  it('sees the error envelope for a wrong passcode', async () => {
    const intruder = CleverTap.init(server.account.id, 'not-the-passcode', 'eu1');
    intruder.api.apiEndpoint = `${server.url}/1`;
    expect(await intruder.realTimeCounts({})).toEqual({
      status: 'fail',
      error: 'Passcode is not valid',
      code: 401,
    });
  });
});
