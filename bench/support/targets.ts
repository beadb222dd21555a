/** The performance targets of the issues, in one place: each benchmark and the summary use them. */
export const TARGETS = {
  engine: {
    ingestPerSecond: 3_000_000,
    bytesPerUser: 100,
    queryMicros: 20,
    /** Issue 16: every split, seven dimensions, 1M active users on 1,000 pages (p99). */
    dimensionsQueryMicros: 50,
    /** Issue 16: a filtered query at 1M active users (p99). */
    filteredQueryMicros: 5000,
  },
  recovery: { replayPerSecond: 2_000_000, durableToMemoryRatio: 0.8, restartSeconds: 3 },
  redis: { ingestPerSecond: 200_000, ratioToNaive: 8, queryP99Micros: 5000 },
  http: {
    ingestPerCoreSecond: 1_000_000,
    nowToBareRatio: 0.9,
    nowP99Ms: 2,
    nowP999Ms: 5,
    /** The uploads running while now.json is measured a second time (mixed load). */
    mixedUploadEventsPerSecond: 100_000,
  },
} as const;
