import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { loggerOptions, REDACTED } from '../../src/http/logging.js';

/** Whatever is logged, credentials are censored and URLs lose their query string. */

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe('loggerOptions', () => {
  it('censors credentials in headers, bodies and queries, at any of the usual places', async () => {
    const { lines, stream } = capture();
    const app = Fastify({ logger: { ...loggerOptions('info'), stream } });
    const credentials = {
      authorization: 'Bearer s1',
      cookie: 's2',
      'x-clevertap-passcode': 's3',
      passcode: 's4',
      token: 's5',
    };
    app.log.info(
      {
        request: { headers: credentials, body: credentials, query: credentials },
        err: { headers: credentials },
        headers: credentials,
        body: credentials,
        ...credentials,
      },
      'everything',
    );
    await app.close();
    const text = JSON.stringify(lines);
    for (const value of Object.values(credentials)) expect(text).not.toContain(`"${value}"`);
    expect(lines[0]).toMatchObject({ passcode: REDACTED, headers: { authorization: REDACTED } });
  });

  it('logs a request without its query string', async () => {
    const { lines, stream } = capture();
    const app = Fastify({ logger: { ...loggerOptions('info'), stream } });
    app.get('/x', async (request) => {
      request.log.info({ req: request }, 'seen');
      return 'ok';
    });
    await app.inject({ url: '/x?token=s6&passcode=s7' });
    await app.close();
    const seen = lines.find((line) => line.msg === 'seen');
    expect(seen?.req).toEqual({ method: 'GET', url: '/x' });
  });
});
