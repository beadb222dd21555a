import { describe, expect, it } from 'vitest';
import { APP_BROWSER } from '../../src/model/dimensions.js';
import { formatProgress } from '../../src/simulate/progress-line.js';
import {
  BROWSER_MIX,
  COUNTRY_MIX,
  DEVICE_MIX_BY_OS,
  OS_MIX_BY_BROWSER,
  WEB_SOURCE_MIX,
} from '../../src/simulate/traffic-mixes.js';
import { type SimulatedEvent, TrafficModel } from '../../src/simulate/traffic-model.js';

/**
 * The traffic model's own schedule (seconds since the start, no clock involved), with fixed seeds:
 * the rate, the mixes and the sessions are what the model promises.
 */

function eventsUntil(model: TrafficModel, seconds: number): SimulatedEvent[] {
  return model.takeUntil(seconds);
}

function shares<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return new Map([...counts].map(([value, count]) => [value, count / values.length]));
}

describe('TrafficModel', () => {
  it('is reproducible: the same seed gives the same schedule', () => {
    const a = eventsUntil(new TrafficModel({ rate: 20, users: 100, seed: 7 }), 120);
    const b = eventsUntil(new TrafficModel({ rate: 20, users: 100, seed: 7 }), 120);
    const c = eventsUntil(new TrafficModel({ rate: 20, users: 100, seed: 8 }), 120);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('sends events in time order at the configured rate, from the first minute (warm start) on', () => {
    for (const [rate, seed] of [
      [20, 1],
      [100, 2],
    ]) {
      const model = new TrafficModel({ rate, users: 1000, seed });
      const events = eventsUntil(model, 3600);
      expect(events.every((event, i) => i === 0 || event.at >= events[i - 1].at)).toBe(true);
      expect(events.length / 3600).toBeGreaterThan(rate * 0.95);
      expect(events.length / 3600).toBeLessThan(rate * 1.05);
      const firstMinute = events.filter((event) => event.at < 60).length / 60;
      expect(firstMinute).toBeGreaterThan(rate * 0.8);
      expect(firstMinute).toBeLessThan(rate * 1.2);
    }
  });

  it('has sessions of the configured mean length with events 30-90 s apart', () => {
    const events = eventsUntil(new TrafficModel({ rate: 50, users: 5000, seed: 3 }), 7200);
    const sessions = new Map<number, SimulatedEvent[]>();
    for (const event of events) {
      if (!event.sessionStartedHere) continue;
      const list = sessions.get(event.session) ?? [];
      list.push(event);
      sessions.set(event.session, list);
    }
    // Only sessions that started early enough to have ended before the end of the schedule.
    const complete = [...sessions.values()].filter((list) => list[0].at < 3600);
    const lengths = complete.map((list) => list[list.length - 1].at - list[0].at);
    const mean = lengths.reduce((sum, length) => sum + length, 0) / lengths.length;
    expect(mean).toBeGreaterThan(270);
    expect(mean).toBeLessThan(330);
    expect(complete.every((list) => list[0].eventName === 'App Launched')).toBe(true);
    const gaps = complete.flatMap((list) => list.slice(1).map((event, i) => event.at - list[i].at));
    expect(gaps.length).toBeGreaterThan(10_000);
    expect(gaps.every((gap) => gap >= 30 && gap <= 90)).toBe(true);
  });

  it('keeps one user, source, browser, OS and device within a session, the OS fitting the browser', () => {
    const events = eventsUntil(new TrafficModel({ rate: 100, users: 300, seed: 4 }), 1800);
    const firstOfSession = new Map<number, SimulatedEvent>();
    const problems: string[] = [];
    for (const event of events) {
      const first = firstOfSession.get(event.session) ?? event;
      firstOfSession.set(event.session, first);
      const { source, browser, os, device } = event.profile;
      if (event.user !== first.user) problems.push(`session ${event.session}: user changed`);
      if (JSON.stringify(event.profile) !== JSON.stringify(first.profile)) {
        problems.push(`session ${event.session}: profile changed`);
      }
      if (OS_MIX_BY_BROWSER.get(browser)?.shares().has(os) !== true) problems.push(`${browser} on ${os}`);
      if (DEVICE_MIX_BY_OS.get(os)?.shares().has(device) !== true) problems.push(`${os} on ${device}`);
      if (source === 'Push' && browser !== APP_BROWSER) problems.push(`Push in ${browser}`);
    }
    expect(firstOfSession.size).toBeGreaterThan(1000);
    expect(problems).toEqual([]);
  });

  it('draws browsers and web sources roughly as configured', () => {
    const events = eventsUntil(new TrafficModel({ rate: 50, users: 50_000, seed: 5 }), 3600);
    const firsts = events.filter((event) => event.eventName === 'App Launched');
    const browsers = shares(firsts.map((event) => event.profile.browser));
    for (const [browser, share] of BROWSER_MIX.shares()) {
      expect(Math.abs((browsers.get(browser) ?? 0) - share), browser).toBeLessThan(0.03);
    }
    const web = firsts.filter((event) => event.profile.browser !== APP_BROWSER);
    const sources = shares(web.map((event) => event.profile.source));
    for (const [source, share] of WEB_SOURCE_MIX.shares()) {
      expect(Math.abs((sources.get(source) ?? 0) - share), source).toBeLessThan(0.03);
    }
  });

  it('puts web events on paths and app events on screens, with a country, and a version for apps', () => {
    const events = eventsUntil(new TrafficModel({ rate: 50, users: 5_000, seed: 7 }), 600);
    const countries = shares(events.map((event) => event.profile.country));
    for (const [country, share] of COUNTRY_MIX.shares()) {
      expect(Math.abs((countries.get(country) ?? 0) - share), country).toBeLessThan(0.05);
    }
    const app = events.filter((event) => event.profile.browser === APP_BROWSER);
    const web = events.filter((event) => event.profile.browser !== APP_BROWSER);
    expect(app.length).toBeGreaterThan(100);
    expect(app.every((event) => !event.page.startsWith('/') && event.profile.app_version !== undefined)).toBe(
      true,
    );
    expect(web.every((event) => event.page.startsWith('/') && event.profile.app_version === undefined)).toBe(
      true,
    );
    const products = web.filter((event) => event.eventName === 'Product Viewed');
    expect(products.length).toBeGreaterThan(100);
    expect(products.every((event) => event.page.startsWith('/products/'))).toBe(true);
    expect(new Set(web.map((event) => event.page)).size).toBeGreaterThan(20);
  });

  it('brings the configured share of new users, each never seen before, among known users', () => {
    for (const newUserShare of [0.2, 0.5]) {
      const model = new TrafficModel({ rate: 40, users: 1000, seed: 6, newUserShare });
      const started = eventsUntil(model, 3600).filter((event) => event.eventName === 'App Launched');
      const share = started.filter((event) => event.newUser).length / started.length;
      expect(Math.abs(share - newUserShare)).toBeLessThan(0.02);
      const newUsers = started.filter((event) => event.newUser).map((event) => event.user);
      expect(new Set(newUsers).size).toBe(newUsers.length);
      const known = new Set(started.filter((event) => !event.newUser).map((event) => event.user));
      expect(known.size).toBeLessThanOrEqual(1000);
      for (const user of newUsers) expect(known.has(user)).toBe(false);
    }
  });

  it('refuses a rate or population that cannot be simulated', () => {
    expect(() => new TrafficModel({ rate: 0, users: 10 })).toThrow(/rate/);
    expect(() => new TrafficModel({ rate: 1, users: 0 })).toThrow(/users/);
  });
});

describe('formatProgress', () => {
  it('shows events sent, rate and errors', () => {
    expect(
      formatProgress({ sent: 1234, errors: 2, rate: 20.04, elapsedSeconds: 61.5, lastError: undefined }),
    ).toBe('events sent 1234  rate 20.0/s  errors 2  (61 s)');
  });
});
