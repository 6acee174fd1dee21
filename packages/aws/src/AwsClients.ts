/**
 * The AWS SDK clients one platform shares (SQS, SNS, S3), configured once: region, an endpoint
 * for emulators (fauxqs, LocalStack), credentials from the default AWS chain unless given. Every
 * call goes through `call`, which makes it interruptible and turns SDK failures into the
 * platform's `InfrastructureError`.
 *
 * @since 0.1.0
 */
import { S3Client } from "@aws-sdk/client-s3"
import { SNSClient } from "@aws-sdk/client-sns"
import { SQSClient } from "@aws-sdk/client-sqs"
import { Errors } from "@reventless/core"
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import * as http from "node:http"
import * as https from "node:https"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly region: string
  /** An emulator's or a VPC endpoint's URL; absent: AWS's own. S3 then uses path-style URLs. */
  readonly endpoint?: string | undefined
  /** Absent: the default AWS credential chain (environment, profile, instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: Redacted.Redacted<string> } | undefined
}

/**
 * @since 0.1.0
 * @category services
 */
export class AwsClients extends Context.Service<AwsClients, {
  readonly sqs: SQSClient
  readonly sns: SNSClient
  readonly s3: S3Client
  readonly options: Options
}>()("@reventless/aws/AwsClients") {}

/**
 * Clients for `options`, destroyed (sockets closed) with the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<AwsClients> =>
  Layer.effect(
    AwsClients,
    Effect.acquireRelease(
      Effect.sync(() => {
        const common = {
          region: options.region,
          // Every consumer holds a connection in a long poll; sends, deletes and visibility
          // extensions must never queue behind them (the SDK's default pool has 50).
          requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 1024 }), httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 1024 }) },
          ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
          ...(options.credentials !== undefined
            ? { credentials: { accessKeyId: options.credentials.accessKeyId, secretAccessKey: Redacted.value(options.credentials.secretAccessKey) } }
            : {})
        }
        return AwsClients.of({
          sqs: new SQSClient(common),
          sns: new SNSClient(common),
          s3: new S3Client({ ...common, forcePathStyle: options.endpoint !== undefined }),
          options
        })
      }),
      (clients) =>
        Effect.sync(() => {
          clients.sqs.destroy()
          clients.sns.destroy()
          clients.s3.destroy()
        })
    )
  )

/**
 * The options from the environment: `AWS_REGION` (default us-east-1), `AWS_ENDPOINT_URL`
 * (optional), and `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` when both are set (else the
 * default chain).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  region: Config.String("AWS_REGION").pipe(Config.withDefault("us-east-1")),
  endpoint: Config.option(Config.String("AWS_ENDPOINT_URL")),
  accessKeyId: Config.option(Config.String("AWS_ACCESS_KEY_ID")),
  secretAccessKey: Config.option(Config.Redacted("AWS_SECRET_ACCESS_KEY"))
}).pipe(Config.map(({ accessKeyId, endpoint, region, secretAccessKey }) => ({
  region,
  endpoint: Option.getOrUndefined(endpoint),
  credentials: Option.isSome(accessKeyId) && Option.isSome(secretAccessKey)
    ? { accessKeyId: accessKeyId.value, secretAccessKey: secretAccessKey.value }
    : undefined
})))

/**
 * `config`, with `endpoint` (a command line's `--endpoint`, an emulator) over the environment's;
 * an emulator takes any credentials, so dummies stand in for it when none are configured. An
 * endpoint from the environment alone (a VPC endpoint, say) keeps the default credential chain.
 *
 * @since 0.1.0
 * @category config
 */
export const configFor = (endpoint: string | undefined): Effect.Effect<Options, Config.ConfigError> =>
  Effect.gen(function*() {
    const configured = yield* config
    return {
      ...configured,
      endpoint: endpoint ?? configured.endpoint,
      credentials: configured.credentials ?? (endpoint !== undefined ? { accessKeyId: "test", secretAccessKey: Redacted.make("test") } : undefined)
    }
  })

/** What the SDK's errors carry beyond `Error`. */
interface SdkError {
  readonly name?: unknown
  readonly message?: unknown
  readonly $fault?: unknown
  readonly $retryable?: unknown
  readonly $metadata?: { readonly httpStatusCode?: unknown } | undefined
}

/** Errors AWS raises as client faults that are throttling or a passing state, worth retrying. */
const transientNames = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "SlowDown",
  "OverLimit",
  "KmsThrottled",
  "KMSThrottlingException",
  "PriorRequestNotComplete",
  "TransactionInProgressException",
  "RequestTimeout",
  "RequestTimeoutException",
  "EC2ThrottledException",
  "InternalError",
  "InternalFailure",
  "ServiceUnavailable"
])

/**
 * Whether an SDK failure is worth retrying: throttling (some of which AWS reports as client
 * faults: SQS's `RequestThrottled` and `OverLimit`), a server fault, or no answer at all (a
 * network error carries no HTTP metadata). Any other client fault (a missing queue, a bad
 * request) is not.
 *
 * @since 0.1.0
 * @category errors
 */
export const isRetryable = (error: unknown): boolean => {
  if (typeof error !== "object" || error === null) return true
  const sdk = error as SdkError
  if (sdk.$retryable !== undefined) return true
  if (typeof sdk.name === "string" && transientNames.has(sdk.name)) return true
  if (sdk.$fault === "server") return true
  const status = sdk.$metadata?.httpStatusCode
  if (typeof status !== "number") return sdk.$fault !== "client"
  return status === 429 || status >= 500
}

/**
 * The SDK error's name (`QueueDoesNotExist`, `NoSuchKey`, ...), for matching.
 *
 * @since 0.1.0
 * @category errors
 */
export const errorName = (error: unknown): string =>
  typeof error === "object" && error !== null && typeof (error as SdkError).name === "string" ? (error as { readonly name: string }).name : ""

/**
 * Runs one SDK request, interruptibly (the request is aborted), as an Effect that fails with the
 * platform's error, or with what `recognize` makes of an error it knows (a missing queue, a
 * bucket that exists already).
 *
 * @since 0.1.0
 * @category constructors
 */
export const call = <A, E = never>(
  service: string,
  operation: string,
  request: (signal: AbortSignal) => Promise<A>,
  recognize?: (name: string) => E | undefined
): Effect.Effect<A, Errors.InfrastructureError | E> =>
  Effect.tryPromise({
    try: request,
    catch: (error): Errors.InfrastructureError | E =>
      recognize?.(errorName(error)) ??
        new Errors.InfrastructureError({
          service,
          operation,
          detail: `${errorName(error) || "Error"}: ${error instanceof Error ? error.message : String(error)}`,
          retryable: isRetryable(error)
        })
  })
