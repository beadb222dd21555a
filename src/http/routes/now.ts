import { z } from 'zod';
import { botLaneOf } from '../../model/bot-lane.js';
import {
  DEFAULT_WINDOW_SECONDS,
  MAX_WINDOW_SECONDS,
  MIN_WINDOW_SECONDS,
  type NowQuery,
  TIMELINE_MINUTES,
} from '../../model/now-query.js';
import { MAX_TOP, topOfResult } from '../../model/split-top.js';
import {
  CLEVERTAP_DIMENSIONS,
  type Dimension,
  EVENT,
  SPLIT_NAMES,
  type SplitName,
} from '../../protocol/dimensions.js';
import type { Store } from '../../store/store.js';
import { JSON_UTF8 } from '../error-envelope.js';
import { filterOf, filterSchema } from '../now-filter.js';
import { CREDENTIALS_SECURITY, GUARD, JSON_BODY, jsonBody, jsonResponse } from '../operation-docs.js';
import { renderNow } from '../render-now.js';
import { accountOf } from '../request-account.js';
import { parseBody } from '../request-body.js';
import type { Route } from '../route.js';

const booleanParameter = z.boolean({ error: 'expected true or false' });
const topReason = { error: `expected an integer from 1 to ${MAX_TOP}` };

/**
 * A `/1/now.json` request: the query the store answers, and how its answer is shaped by the
 * extensions that do not change what is counted (`top`, `bots` from the bot lane, and `as_of` on any
 * extended answer).
 */
export interface NowAsk {
  readonly query: NowQuery;
  /** Values kept per split (`top`); undefined keeps them all. */
  readonly top: number | undefined;
  /** Whether the answer carries `bots`, the count of the account's bot lane. */
  readonly bots: boolean;
  /** Whether the answer carries `as_of`: the request used an activenow extension. */
  readonly asOf: boolean;
}

/** Whether a split is one of activenow's, not CleverTap's: asking for one makes the answer extended. */
function isExtensionSplit(name: SplitName): boolean {
  return !(CLEVERTAP_DIMENSIONS as readonly SplitName[]).includes(name);
}

const SPLIT_DESCRIPTIONS: Record<SplitName, string> = {
  session_source: 'Split active users by the source of their session.',
  browser: 'Split active users by browser.',
  os: 'Split active users by operating system.',
  device: 'Split active users by device type.',
  page: 'activenow extension: split active users by the page path or screen of their latest activity.',
  country: 'activenow extension: split active users by country (ISO 3166-1 alpha-2 code).',
  app_version: 'activenow extension: split active users by the app version of their latest activity.',
  event:
    'activenow extension: active users per event they did in the window; a user counts under each of its events, so this split does not sum to count.',
};

/**
 * The `/1/now.json` body. `window` is bounded by the server's retention horizon, so the schema is
 * made per horizon; each issue's message is the reason the 400 gives.
 */
export function nowRequestSchema(horizonSeconds: number) {
  const maxWindow = Math.min(MAX_WINDOW_SECONDS, horizonSeconds);
  const reason = { error: `expected an integer from ${MIN_WINDOW_SECONDS} to ${maxWindow} (seconds)` };
  const splits = Object.fromEntries(
    SPLIT_NAMES.map((name) => [
      name,
      booleanParameter.optional().meta({ description: SPLIT_DESCRIPTIONS[name] }),
    ]),
  ) as Record<SplitName, z.ZodOptional<z.ZodBoolean>>;
  return z
    .strictObject({
      user_type: booleanParameter
        .optional()
        .meta({ description: 'Split into new (first-ever activity within the window) and returning.' }),
      ...splits,
      window: z
        .int(reason)
        .min(MIN_WINDOW_SECONDS, reason)
        .max(maxWindow, reason)
        .optional()
        .meta({ description: 'activenow extension: window length in seconds; default 300.' }),
      timeline: booleanParameter.optional().meta({
        description: `activenow extension: distinct active users per calendar minute for the last ${TIMELINE_MINUTES} minutes.`,
      }),
      bots: booleanParameter.optional().meta({
        description:
          "activenow extension: distinct bots active in the window (events and hits whose User-Agent is a bot's), counted apart from count.",
      }),
      top: z
        .int(topReason)
        .min(1, topReason)
        .max(MAX_TOP, topReason)
        .optional()
        .meta({
          description: `activenow extension: keep the N values with the most users in each split (1 to ${MAX_TOP}); the users of the others are counted under Other.`,
        }),
      filter: filterSchema.optional(),
    })
    .meta({ description: 'No body, `{}`, or any of these keys; `false` is the same as leaving a key out.' });
}

/** One schema per horizon (a server has one), built on first use. */
const requestSchemas = new Map<number, ReturnType<typeof nowRequestSchema>>();

/**
 * The `/1/now.json` body as a request: `{}` or no body for the count alone; booleans `user_type`,
 * `session_source`, `browser`, `os`, `device`; extensions `page`, `country`, `app_version`, `event`, `window`,
 * `timeline`, `top`, `bots` and `filter`. Any other key, or a value of the wrong type, is refused, naming the key.
 */
export function parseNowRequest(body: unknown, horizonSeconds: number): NowAsk {
  let schema = requestSchemas.get(horizonSeconds);
  if (schema === undefined) {
    schema = nowRequestSchema(horizonSeconds);
    requestSchemas.set(horizonSeconds, schema);
  }
  const fields = parseBody(schema, body);
  const splits = SPLIT_NAMES.filter((name) => fields[name] === true);
  const filter = filterOf(fields.filter);
  return {
    query: {
      window: fields.window ?? DEFAULT_WINDOW_SECONDS,
      userType: fields.user_type === true,
      splits,
      timeline: fields.timeline === true,
      ...(filter === undefined ? {} : { filter }),
    },
    top: fields.top,
    bots: fields.bots === true,
    asOf:
      fields.window !== undefined ||
      fields.timeline === true ||
      fields.top !== undefined ||
      fields.bots === true ||
      fields.filter !== undefined ||
      splits.some(isExtensionSplit),
  };
}

const users = z.int().nonnegative();

const split = z.record(z.string(), users).meta({
  description:
    'Value → active users; values with no user left out; keys ordered by count descending, then value. Sums to count (to user_type.new under `new`).',
});

const eventSplit = z.record(z.string(), users).meta({
  description:
    'Event name → active users who did it in the window; keys ordered as a split. A user counts under each of its events: no sum.',
});

const splits = {
  ...(Object.fromEntries(
    SPLIT_NAMES.filter((name) => name !== EVENT).map((name) => [name, split.optional()]),
  ) as Record<Dimension, z.ZodOptional<typeof split>>),
  event: eventSplit.optional(),
};

/**
 * The success body. render-now.ts writes it by hand, for speed and to keep the order of split values
 * (it is not generated from this schema, nor this from it); test/unit/render-now.test.ts holds the two
 * together.
 */
export const nowResponseSchema = z.strictObject({
  status: z.literal('success'),
  count: users.meta({ description: 'Distinct users with at least one event in (now − window, now].' }),
  user_type: z.strictObject({ new: users, returning: users }).optional(),
  ...splits,
  new: z.strictObject(splits).optional().meta({
    description: 'Present when user_type and at least one split are asked: the splits of new users.',
  }),
  timeline: z
    .array(
      z.strictObject({
        ts: z.int().meta({ description: 'Start of the minute, epoch seconds.' }),
        count: users,
      }),
    )
    .length(TIMELINE_MINUTES)
    .optional()
    .meta({ description: 'activenow extension: oldest minute first, the current partial minute last.' }),
  bots: users.optional().meta({
    description: 'activenow extension: distinct bots active in the window, not counted in count.',
  }),
  as_of: z.int().optional().meta({
    description:
      'activenow extension: the server time the answer is for, epoch seconds; present when the request uses an extension (window, timeline, top, bots, filter, page, country, app_version).',
  }),
});

export const NOW_PATH = '/1/now.json';
const PATH = NOW_PATH;

/**
 * The body answering `ask` for `account` at `at`: what the route sends, and what the fast lane
 * sends for the same request (now-fast-lane.ts).
 */
export async function answerNow(store: Store, account: string, ask: NowAsk, at: number): Promise<string> {
  const [result, bots] = await Promise.all([
    store.now(account, ask.query, at),
    ask.bots ? botsActive(store, account, ask.query.window, at) : undefined,
  ]);
  return renderNow(ask.top === undefined ? result : topOfResult(result, ask.top), {
    bots,
    asOf: ask.asOf ? at : undefined,
  });
}

/**
 * Distinct bots of `account` active in the `window` seconds up to `at`: its bot lane's count. A
 * filter does not apply: bots carry no values (docs/semantics.md §9).
 */
export async function botsActive(store: Store, account: string, window: number, at: number): Promise<number> {
  const lane = await store.now(
    botLaneOf(account),
    { window, userType: false, splits: [], timeline: false },
    at,
  );
  return lane.count;
}

/** `POST /1/now.json`: distinct active users now, with the splits asked for. */
export const nowRoute: Route = {
  paths: {
    [PATH]: {
      post: {
        operationId: 'now',
        summary: 'Distinct active users now, optionally split (CleverTap Real-Time Counts)',
        description:
          'Users with at least one event in (now − window, now]. Each requested split maps value → users and sums to count; `new` holds the splits of new users when user_type and a split are requested. The splits `page`, `country` and `app_version`, and `window`, `timeline`, `top`, `bots` and `filter`, are activenow extensions; an answer to a request using one carries `as_of`.',
        tags: ['Real-Time Counts'],
        security: CREDENTIALS_SECURITY,
        requestBody: jsonBody(
          'NowRequest',
          {
            splits: { user_type: true, browser: true, device: true },
            extensions: { window: 600, timeline: true, top: 10 },
          },
          false,
        ),
        responses: {
          200: jsonResponse('The count and the splits asked for.', 'NowResponse', {
            status: 'success',
            count: 214,
            user_type: { new: 58, returning: 156 },
            browser: { Chrome: 120, Safari: 94 },
            new: { browser: { Chrome: 30, Safari: 28 } },
          }),
        },
        errors: [
          ...GUARD,
          ...JSON_BODY,
          'bodyTooLarge',
          'bodyNotObject',
          'unknownParameter',
          'invalidParameter',
          'unsupportedParameter',
        ],
      },
    },
  },
  schemas: ({ horizonSeconds }) => ({
    NowRequest: nowRequestSchema(horizonSeconds),
    NowResponse: nowResponseSchema,
  }),
  register(app, context) {
    app.post(PATH, { onRequest: context.guard }, async (request, reply) => {
      const ask = parseNowRequest(request.body, context.horizonSeconds);
      return reply
        .type(JSON_UTF8)
        .send(await answerNow(context.store, accountOf(request), ask, context.clock()));
    });
  },
};
