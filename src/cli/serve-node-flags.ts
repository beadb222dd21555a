/**
 * The Node.js options `activenow serve` runs with: the bin's shebang (src/cli/main.ts) and
 * `npm start` pass them, and so does every harness that starts a server the way users do
 * (support/cli-process.ts). docs/operations.md ("Memory") says why, for those who start it
 * another way.
 *
 * A young generation of 64 MiB semi-spaces instead of V8's 16: the activities of an upload live
 * until its commit returns, which under load outlasts two of the default's scavenges, so they were
 * promoted and the old generation filled with them; the server then ran ~6 mark-compacts a second
 * while ingesting (bench:http). With room for them to die young it runs none, and ingest costs
 * ~15% less CPU (bench/RESULTS.md).
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
