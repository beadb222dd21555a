import { describe, expect, it } from 'vitest';
import { ActiveNowError, classify, errorOfAnswer } from '../../src/client/errors.js';
import { ApiError } from '../../src/model/api-errors.js';
import { API_ERRORS, type ApiErrorName } from '../../src/protocol/error-catalogue.js';

describe('the client error catalogue', () => {
  it.each(Object.keys(API_ERRORS) as ApiErrorName[])(
    'maps the server message of %s back to its name',
    (name) => {
      // Values with spaces and punctuation. (A name holding ": " would be ambiguous in
      // "Invalid parameter {name}: {reason}"; the server's parameter names never do.)
      const error = new ApiError(name, {
        name: 'a b, c',
        reason: 'expected x; y',
        max: 1000,
        region: 'in1',
        allow: 'GET, HEAD',
      });
      const classified = classify(error.status, error.message);
      expect(classified.kind).toBe(name);
      const placeholders = [...API_ERRORS[name].message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(Object.keys(classified.params)).toEqual(placeholders);
      const expected: Record<string, string> = {
        name: 'a b, c',
        reason: 'expected x; y',
        max: '1000',
        region: 'in1',
        allow: 'GET, HEAD',
      };
      for (const key of placeholders) expect(classified.params[key]).toBe(expected[key]);
    },
  );

  it('needs the status to match too, and the whole message', () => {
    expect(classify(400, 'Passcode is not valid').kind).toBe('unknown');
    expect(classify(401, 'Passcode is not valid!').kind).toBe('unknown');
    expect(classify(401, undefined).kind).toBe('unknown');
    expect(classify(401, 'Passcode is not valid').kind).toBe('invalidPasscode');
  });

  it('reads the envelope of an answer, and tolerates one that is not', () => {
    const envelope = errorOfAnswer(
      401,
      '{"status":"fail","error":"Account ID is not valid","code":401}',
      1500,
    );
    expect(envelope).toBeInstanceOf(ActiveNowError);
    expect(envelope).toBeInstanceOf(Error);
    expect([
      envelope.name,
      envelope.status,
      envelope.code,
      envelope.error,
      envelope.kind,
      envelope.retryAfterMs,
    ]).toEqual(['ActiveNowError', 401, 401, 'Account ID is not valid', 'invalidAccount', 1500]);
    const page = errorOfAnswer(502, '<html>Bad Gateway</html>');
    expect([page.code, page.error, page.kind]).toEqual([undefined, undefined, 'unknown']);
    expect(page.message).toContain('502');
    expect(errorOfAnswer(500, 'null').kind).toBe('unknown');
  });
});
