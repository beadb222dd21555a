import { describe, expect, it } from 'vitest';
import { parseBody } from '../../src/http/request-body.js';
import { parseNowRequest } from '../../src/http/routes/now.js';
import { emptyBodySchema } from '../../src/http/routes/now-token.js';
import { ApiError } from '../../src/model/api-errors.js';

/** The ApiError a call throws, as kind and message. */
function refusal(call: () => unknown): { kind: string; message: string } {
  try {
    call();
  } catch (error) {
    if (error instanceof ApiError) return { kind: error.kind, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseNowRequest', () => {
  it('reads no body and {} as the count alone, and false as absent', () => {
    const countOnly = {
      query: { window: 300, userType: false, splits: [], timeline: false },
      top: undefined,
      bots: false,
      asOf: false,
    };
    expect(parseNowRequest(undefined, 1800)).toEqual(countOnly);
    expect(parseNowRequest({}, 1800)).toEqual(countOnly);
    expect(parseNowRequest({ user_type: false, browser: false, timeline: false }, 1800)).toEqual(countOnly);
  });

  it('reads the splits in response order, whatever the order of the body', () => {
    expect(
      parseNowRequest({ os: true, window: 600, user_type: true, browser: true, timeline: true }, 1800),
    ).toEqual({
      query: { window: 600, userType: true, splits: ['browser', 'os'], timeline: true },
      top: undefined,
      bots: false,
      asOf: true,
    });
  });

  it('reads top, and asks for as_of when any extension is used', () => {
    expect(parseNowRequest({ browser: true, top: 3 }, 1800)).toMatchObject({ top: 3, asOf: true });
    expect(parseNowRequest({ window: 300 }, 1800).asOf).toBe(true);
    expect(parseNowRequest({ timeline: true }, 1800).asOf).toBe(true);
    expect(parseNowRequest({ user_type: true, browser: true }, 1800).asOf).toBe(false);
    expect(parseNowRequest({ bots: true }, 1800)).toMatchObject({ bots: true, asOf: true });
    expect(parseNowRequest({ bots: false }, 1800)).toMatchObject({ bots: false, asOf: false });
    for (const top of [0, 1001, 2.5, '3', true]) {
      expect(refusal(() => parseNowRequest({ top }, 1800))).toEqual({
        kind: 'invalidParameter',
        message: 'Invalid parameter top: expected an integer from 1 to 1000',
      });
    }
    expect(parseNowRequest({ top: 1000 }, 1800).top).toBe(1000);
  });

  it.each([[[]], [null], ['user_type'], [42], [true]])('refuses %j as not an object', (body) => {
    expect(refusal(() => parseNowRequest(body, 1800))).toEqual({
      kind: 'bodyNotObject',
      message: 'Request body must be a JSON object',
    });
  });

  it('names the first offending key of the body, whichever problem it has', () => {
    expect(refusal(() => parseNowRequest({ zz: 1, user_type: 'yes' }, 1800))).toEqual({
      kind: 'unknownParameter',
      message: 'Unknown parameter: zz',
    });
    expect(refusal(() => parseNowRequest({ user_type: 'yes', zz: 1 }, 1800))).toEqual({
      kind: 'invalidParameter',
      message: 'Invalid parameter user_type: expected true or false',
    });
    expect(refusal(() => parseNowRequest({ window: 5, device: 1 }, 1800)).message).toBe(
      'Invalid parameter window: expected an integer from 60 to 1800 (seconds)',
    );
  });

  it('reads a filter in one form whatever its order, and asks for as_of', () => {
    // One form whatever the body's order: dimensions as DIMENSIONS then event, values sorted, each once.
    const ask = parseNowRequest(
      { filter: { event: ['View', 'Buy'], country: ['US', 'IN', 'US'], device: ['Mobile'] }, page: true },
      1800,
    );
    expect(ask.query.filter).toEqual({ device: ['Mobile'], country: ['IN', 'US'], event: ['Buy', 'View'] });
    expect(Object.keys(ask.query.filter ?? {})).toEqual(['device', 'country', 'event']);
    expect(ask.asOf).toBe(true);
    const empty = parseNowRequest({ filter: {} }, 1800);
    expect(empty.asOf).toBe(true);
    expect('filter' in empty.query).toBe(false);
    const hundred = Array.from({ length: 100 }, (_, i) => `/p${i}`);
    expect(parseNowRequest({ filter: { page: hundred } }, 1800).query.filter).toEqual({
      page: [...hundred].sort(),
    });
    expect(parseNowRequest({ filter: { page: ['x'.repeat(256)] } }, 1800).query.filter).toBeDefined();
  });

  it('asks the event split, after the dimensions, with as_of', () => {
    const ask = parseNowRequest({ event: true, browser: true }, 1800);
    expect(ask.query.splits).toEqual(['browser', 'event']);
    expect(ask.asOf).toBe(true);
    expect(refusal(() => parseNowRequest({ event: 'yes' }, 1800)).message).toBe(
      'Invalid parameter event: expected true or false',
    );
  });

  it('refuses a filter that is not an object of non-empty lists of short strings, naming where', () => {
    const values = 'expected an array of 1 to 100 strings of 1 to 256 characters';
    const cases: [unknown, string][] = [
      [['country'], 'Invalid parameter filter: expected an object of dimension (or event) → values'],
      ['IN', 'Invalid parameter filter: expected an object of dimension (or event) → values'],
      [{ colour: ['red'] }, 'Unknown parameter: filter.colour'],
      [{ user_type: ['new'] }, 'Unknown parameter: filter.user_type'],
      [{ country: 'IN' }, `Invalid parameter filter.country: ${values}`],
      [{ country: [] }, `Invalid parameter filter.country: ${values}`],
      [{ country: [''] }, `Invalid parameter filter.country: ${values}`],
      [{ country: ['IN', 7] }, `Invalid parameter filter.country: ${values}`],
      [{ page: ['x'.repeat(257)] }, `Invalid parameter filter.page: ${values}`],
      [{ page: Array.from({ length: 101 }, (_, i) => `/p${i}`) }, `Invalid parameter filter.page: ${values}`],
    ];
    for (const [filter, message] of cases) {
      expect(refusal(() => parseNowRequest({ filter }, 1800)).message, JSON.stringify(filter)).toBe(message);
    }
  });

  it('bounds window by the horizon, at most 3600', () => {
    expect(parseNowRequest({ window: 1800 }, 1800).query.window).toBe(1800);
    expect(refusal(() => parseNowRequest({ window: 1801 }, 1800)).message).toBe(
      'Invalid parameter window: expected an integer from 60 to 1800 (seconds)',
    );
    expect(parseNowRequest({ window: 3600 }, 7200).query.window).toBe(3600);
    expect(refusal(() => parseNowRequest({ window: 3601 }, 7200)).message).toBe(
      'Invalid parameter window: expected an integer from 60 to 3600 (seconds)',
    );
  });
});

describe('parseBody with the token request schema', () => {
  it('accepts no body and {}, refuses any key and non-objects', () => {
    expect(parseBody(emptyBodySchema, undefined)).toEqual({});
    expect(parseBody(emptyBodySchema, {})).toEqual({});
    expect(refusal(() => parseBody(emptyBodySchema, { b: 1, a: 2 })).message).toBe('Unknown parameter: b');
    expect(refusal(() => parseBody(emptyBodySchema, [])).kind).toBe('bodyNotObject');
  });
});
