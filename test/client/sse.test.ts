import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/client/sse.js';

const STREAM =
  '\uFEFF: keep-alive\n\ndata: {"count":1}\n\nevent: other\r\ndata: a\r\ndata: b\r\n\r\nid: 7\rdata:no space\r\r' +
  'data\n\nretry: 1500\nretry: x\n\n: only a comment\n\ndata: tail without blank line';

const EXPECTED = [
  { type: 'message', data: '{"count":1}', id: undefined },
  { type: 'other', data: 'a\nb', id: undefined },
  { type: 'message', data: 'no space', id: '7' },
  { type: 'message', data: '', id: '7' },
];

describe('SseParser', () => {
  it('parses fields, comments, line ends and dispatch as the HTML standard says', () => {
    const parser = new SseParser();
    expect(parser.push(STREAM)).toEqual(EXPECTED);
    expect(parser.retryMs).toBe(1500);
    expect(parser.comments).toBe(2);
  });

  it('gives the same events however the text is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: STREAM.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new SseParser();
        const events = [];
        let from = 0;
        for (const point of [...points, STREAM.length]) {
          events.push(...parser.push(STREAM.slice(from, point)));
          from = point;
        }
        expect(events).toEqual(EXPECTED);
      }),
    );
  });
});
