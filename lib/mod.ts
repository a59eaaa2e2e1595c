/**
 * The echo library behind `echo-server` and `echo-client`, for programs
 * built on it: run the whole server ({@linkcode runServer}) or serve echo
 * on a listener of your own ({@linkcode serveEcho}), echo through a server
 * and verify it ({@linkcode runClient}), load it ({@linkcode runLoad}) or
 * probe it ({@linkcode runPing}); with their options and result types and
 * the errors a caller tells apart.
 *
 * The command line (`cli/`), the soak and the helpers inside each folder
 * stay internal: one folder per concern, each with its own `mod.ts` (see
 * the README, "How the code is laid out").
 *
 * @example Serve echo on a free loopback port until aborted
 * ```ts
 * import { serveEcho } from "./mod.ts";
 * const stop = new AbortController();
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const done = serveEcho(listener, { signal: stop.signal });
 * stop.abort();
 * await done;
 * ```
 *
 * @module
 */

export {
  BufferBudget,
  type BufferBudgetShared,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_TRUSTED_PROXIES,
  type EchoConnectionOptions,
  type Listening,
  type ProxyProtocolOptions,
  type RefusalReason,
  runServer,
  type RunServerOptions,
  type ScrapeExtras,
  serveEcho,
  type ServeEchoOptions,
  type ServeLimits,
  type ServerBanner,
  ServerMetrics,
  type ServerSummary,
  type ServerTls,
  type ServeSummary,
  type StreamService,
  type StreamTotals,
  type UdpSummary,
} from "./server/mod.ts";
export {
  BANNER_FIELDS,
  type BannerFacts,
  type BannerField,
  type BannerPart,
  type BannerTemplate,
  type HostFacts,
  parseBannerTemplate,
} from "./banner/mod.ts";
export {
  type Cutoff,
  FAULT_KEYS,
  FaultBoard,
  type FaultKey,
  type FaultSettings,
  type FaultValue,
  parseFaults,
} from "./faults/mod.ts";
export {
  type EchoStreamProgress,
  runClient,
  type RunClientOptions,
} from "./client/mod.ts";
export {
  ERROR_CAUSES,
  type ErrorCause,
  type HistogramData,
  LatencyHistogram,
  type LoadMode,
  type LoadOptions,
  type LoadProgress,
  type LoadReport,
  runLoad,
  type UdpCounts,
} from "./bench/mod.ts";
export {
  type PingOptions,
  type PingSummary,
  PROBE_FAILURES,
  type ProbeFailure,
  type ProbeResult,
  type RttStats,
  runPing,
} from "./ping/mod.ts";
export {
  type AccessRules,
  AddressLimit,
  type AddressLimitOptions,
  type AddressLimitShared,
  type Admitted,
  type Cidr,
  parseCidr,
} from "./access/mod.ts";
export { type ProxyVersion } from "./proxy/mod.ts";
export {
  type AcceptErrorKind,
  EchoMismatchError,
  type Endpoint,
  type StreamConn,
  type StreamListener,
  TimeoutError,
  type TlsClientOptions,
  TlsVerificationError,
} from "./net/mod.ts";
export {
  type LogFields,
  type LogFormat,
  Logger,
  type LoggerOptions,
} from "./log/mod.ts";
