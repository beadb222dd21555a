import type { NowResult, Split, Splits } from '../model/now-query.js';

/** What an answer carries besides the store's result (activenow extensions). */
export interface NowExtras {
  /** Distinct bots active in the window (the bot lane's count). */
  readonly bots?: number;
  /** The server time the answer is for, epoch seconds. */
  readonly asOf?: number;
}

/**
 * The `/1/now.json` success body, in CleverTap's shape and key order: status, count, user_type,
 * the splits, `new` (the splits of new users), then the activenow extensions `timeline`, `bots` and
 * `as_of`.
 */
export function renderNow(result: NowResult, extras: NowExtras = {}): string {
  let json = `{"status":"success","count":${result.count}`;
  if (result.userType) {
    json += `,"user_type":{"new":${result.userType.new},"returning":${result.userType.returning}}`;
  }
  json += renderSplits(result.splits);
  if (result.newSplits) json += `,"new":{${renderSplits(result.newSplits).slice(1)}}`;
  if (result.timeline) json += `,"timeline":${JSON.stringify(result.timeline)}`;
  if (extras.bots !== undefined) json += `,"bots":${extras.bots}`;
  const body = `${json}}`;
  return extras.asOf === undefined ? body : withAsOf(body, extras.asOf);
}

/** A body renderNow wrote without `as_of`, with it: the last key, epoch seconds. */
export function withAsOf(body: string, asOf: number): string {
  return `${body.slice(0, -1)},"as_of":${asOf}}`;
}

function renderSplits(splits: Splits): string {
  let json = '';
  for (const [dimension, split] of Object.entries(splits) as [string, Split][]) {
    json += `,"${dimension}":{`;
    for (let i = 0; i < split.length; i++) {
      json += `${i === 0 ? '' : ','}${JSON.stringify(split[i][0])}:${split[i][1]}`;
    }
    json += '}';
  }
  return json;
}
