/**
 * Compile-time checks of the client's result types, run by `npm run typecheck` (tsconfig.json
 * includes test/): each `@ts-expect-error` fails the type check if its line compiles.
 */
import { expectTypeOf } from 'vitest';
import type {
  ActiveNowClient,
  NowRequest,
  NowResult,
  Split,
  StreamUpdate,
  TimelinePoint,
  UserTypeSplit,
} from '../../src/client/index.js';

declare const client: ActiveNowClient;

export async function countOnly(): Promise<void> {
  const result = await client.now();
  expectTypeOf(result).toEqualTypeOf<{ readonly status: 'success'; readonly count: number }>();
  // @ts-expect-error no split was asked for
  void result.browser;
  // @ts-expect-error nor user_type
  void result.user_type;
}

export async function oneSplit(): Promise<void> {
  const result = await client.now({ browser: true });
  expectTypeOf(result.browser).toEqualTypeOf<Split>();
  expectTypeOf(result.count).toBeNumber();
  // @ts-expect-error os was not asked for
  void result.os;
  // @ts-expect-error new needs user_type
  void result.new;
  // @ts-expect-error timeline was not asked for
  void result.timeline;
  // @ts-expect-error no extension, so no as_of
  void result.as_of;
}

export async function topValues(): Promise<void> {
  const result = await client.now({ browser: true, top: 5 });
  expectTypeOf(result.browser).toEqualTypeOf<Split>();
  expectTypeOf(result.as_of).toEqualTypeOf<number>();
  // @ts-expect-error bots was not asked for
  void result.bots;
}

export async function filtered(): Promise<void> {
  const result = await client.now({ page: true, filter: { country: ['IN', 'US'], device: ['Mobile'] } });
  expectTypeOf(result.page).toEqualTypeOf<Split>();
  expectTypeOf(result.as_of).toEqualTypeOf<number>();
  // @ts-expect-error country was not asked for as a split, only as a filter
  void result.country;
}

export async function bots(): Promise<void> {
  const result = await client.now({ bots: true });
  expectTypeOf(result.bots).toEqualTypeOf<number>();
  expectTypeOf(result.as_of).toEqualTypeOf<number>();
}

export async function userTypeAndSplits(): Promise<void> {
  const result = await client.now({ user_type: true, browser: true, device: true, os: false, window: 600 });
  expectTypeOf(result.user_type).toEqualTypeOf<UserTypeSplit>();
  expectTypeOf(result.new).toEqualTypeOf<{ readonly browser: Split; readonly device: Split }>();
  expectTypeOf(result.new.browser).toEqualTypeOf<Split>();
  // @ts-expect-error os: false
  void result.os;
  // @ts-expect-error new holds only the splits asked for
  void result.new.session_source;
}

export async function userTypeAlone(): Promise<void> {
  const result = await client.now({ user_type: true, timeline: true });
  expectTypeOf(result.user_type.returning).toBeNumber();
  expectTypeOf(result.timeline).toEqualTypeOf<readonly TimelinePoint[]>();
  expectTypeOf(result.as_of).toEqualTypeOf<number>();
  // @ts-expect-error no split, so no new
  void result.new;
}

export async function activenowSplits(): Promise<void> {
  const result = await client.now({ page: true, country: true, user_type: true });
  expectTypeOf(result.page).toEqualTypeOf<Split>();
  expectTypeOf(result.new.country).toEqualTypeOf<Split>();
  // A split of activenow's is an extension: the answer says when it was made.
  expectTypeOf(result.as_of).toEqualTypeOf<number>();
  // @ts-expect-error not asked
  void result.app_version;
  const events = await client.now({ event: true, filter: { event: ['Purchase'] } });
  expectTypeOf(events.event).toEqualTypeOf<Split>();
  expectTypeOf(events.as_of).toEqualTypeOf<number>();
  // @ts-expect-error no other split was asked
  void events.browser;
  const clevertap = await client.now({ device: true });
  // @ts-expect-error CleverTap's splits alone: the answer is CleverTap's, without as_of
  void clevertap.as_of;
}

export async function notKnownWhenCompiling(request: NowRequest): Promise<void> {
  // A request built at run time: every key may or may not be there.
  const result = await client.now(request);
  expectTypeOf(result.browser).toEqualTypeOf<Split | undefined>();
  expectTypeOf(result.as_of).toEqualTypeOf<number | undefined>();
  expectTypeOf(result.new).toEqualTypeOf<
    | {
        readonly session_source?: Split;
        readonly browser?: Split;
        readonly os?: Split;
        readonly device?: Split;
        readonly page?: Split;
        readonly country?: Split;
        readonly app_version?: Split;
        readonly event?: Split;
      }
    | undefined
  >();
  expectTypeOf<NowResult>().toEqualTypeOf<typeof result>();
}

export async function wrongRequests(): Promise<void> {
  // @ts-expect-error unknown key
  await client.now({ browsers: true });
  // @ts-expect-error not a boolean
  await client.now({ browser: 'yes' });
  // @ts-expect-error top is a number
  await client.now({ browser: true, top: true });
  // @ts-expect-error a filter names dimensions
  await client.now({ filter: { colour: ['red'] } });
  // @ts-expect-error a filter lists values
  await client.now({ filter: { country: 'IN' } });
  // @ts-expect-error upload records need a type
  await client.upload([{ identity: 'u1', evtName: 'x' }]);
}

export function streamUpdates(): void {
  client.stream((update) => {
    expectTypeOf(update).toEqualTypeOf<StreamUpdate>();
    expectTypeOf(update.session_source).toEqualTypeOf<Split>();
    expectTypeOf(update.new.device).toEqualTypeOf<Split>();
    expectTypeOf(update.timeline).toEqualTypeOf<readonly TimelinePoint[]>();
    expectTypeOf(update.as_of).toEqualTypeOf<number>();
    expectTypeOf(update.bots).toEqualTypeOf<number>();
  });
}

export async function uploads(): Promise<void> {
  const result = await client.upload([
    { type: 'event', identity: 'u1', evtName: 'x', session: { ua: 'Mozilla' } },
  ]);
  expectTypeOf(result.unprocessed[0].index).toBeNumber();
  expectTypeOf(result.processed).toBeNumber();
}
