/**
 * Finds, and where allowed creates, the queues, topics, subscriptions and buckets the platform
 * uses, by name (see `Names`). Creation is idempotent: AWS returns the existing resource when the
 * attributes match. A deployment that may not create resources (`create: false`, the production
 * default) only looks them up, and a missing one fails with an error that says to provision.
 *
 * @since 0.1.0
 */
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand
} from "@aws-sdk/client-s3"
import { CreateTopicCommand, ListTopicsCommand, SubscribeCommand } from "@aws-sdk/client-sns"
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand } from "@aws-sdk/client-sqs"
import { Errors } from "@reventless/core"
import { Context, Effect, Layer } from "effect"
import { AwsClients, call } from "./AwsClients.ts"
import * as Names from "./Names.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Prepended to every resource name, e.g. `shop-prod`. */
  readonly prefix: string
  /** Create what is missing (development, emulators, `reventless aws provision`). Default false. */
  readonly create?: boolean | undefined
  /** Receives of one message before SQS moves it to the dead-letter queue (default 5). */
  readonly maxReceiveCount?: number | undefined
  /** Seconds a received message stays invisible to other consumers (default 30). */
  readonly visibilityTimeoutSeconds?: number | undefined
  /** The region buckets are created in (default us-east-1). */
  readonly region?: string | undefined
  /**
   * Whether S3 must accept a bucket's notification configuration (default true). Off for
   * emulators that have no S3 notifications, where the blob store posts them itself.
   */
  readonly s3Notifications?: boolean | undefined
}

/**
 * The options with their defaults applied.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly prefix: string
  readonly create: boolean
  readonly maxReceiveCount: number
  readonly visibilityTimeoutSeconds: number
  readonly s3Notifications: boolean
}

/**
 * A queue: its URL for calls, its ARN for subscriptions and policies.
 *
 * @since 0.1.0
 * @category models
 */
export interface Queue {
  readonly name: string
  readonly url: string
  readonly arn: string
}

/**
 * @since 0.1.0
 * @category services
 */
export class Resources extends Context.Service<Resources, {
  readonly options: Settings
  /** A FIFO queue with its FIFO dead-letter queue (redrive after `maxReceiveCount` receives). */
  readonly fifoQueue: (name: string) => Effect.Effect<Queue, Errors.InfrastructureError>
  /** A standard queue with its dead-letter queue (S3 notifications). */
  readonly standardQueue: (name: string) => Effect.Effect<Queue, Errors.InfrastructureError>
  /** A FIFO topic; its ARN. */
  readonly fifoTopic: (name: string) => Effect.Effect<string, Errors.InfrastructureError>
  /** Subscribes `queue` to `topicArn` with raw delivery (the queue receives the message body as published). */
  readonly subscribe: (topicArn: string, queue: Queue) => Effect.Effect<void, Errors.InfrastructureError>
  /** A bucket whose ObjectCreated notifications go to `queue`. */
  readonly bucket: (name: string, queue: Queue) => Effect.Effect<void, Errors.InfrastructureError>
  /** What this instance created so far, in order (for `reventless aws provision`). */
  readonly created: () => ReadonlyArray<string>
}>()("@reventless/aws/Resources") {}

const missing = (kind: string, name: string) =>
  new Errors.InfrastructureError({
    service: "Resources",
    operation: "lookup",
    detail: `the ${kind} "${name}" does not exist; create it with \`reventless aws provision\` (or run with resource creation on)`,
    retryable: false
  })

/**
 * Allows one AWS resource (an SNS topic, an S3 bucket: `sourceArn`) to send to the queue, as AWS
 * requires for subscriptions and notifications, and nothing else.
 */
const sendPolicy = (queueArn: string, principal: string, sourceArn: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: principal },
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Condition: { ArnEquals: { "aws:SourceArn": sourceArn } }
    }]
  })

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Resources["Service"], never, AwsClients> =>
  Effect.map(Effect.service(AwsClients), ({ s3, sns, sqs }) => {
    const resolved: Settings = {
      prefix: options.prefix,
      create: options.create ?? false,
      maxReceiveCount: options.maxReceiveCount ?? 5,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
      s3Notifications: options.s3Notifications ?? true
    }
    const created: Array<string> = []
    /** One lookup per resource and process, shared by concurrent callers; failures are not kept. */
    const memo = <A>(cache: Map<string, Effect.Effect<A, Errors.InfrastructureError>>, key: string, make: Effect.Effect<A, Errors.InfrastructureError>) => {
      const known = cache.get(key)
      if (known !== undefined) return known
      return Effect.flatMap(Effect.cached(Effect.tapError(make, () => Effect.sync(() => void cache.delete(key)))), (once) => {
        cache.set(key, once)
        return once
      })
    }

    const arnOf = (url: string) =>
      Effect.map(
        call("SQS", "GetQueueAttributes", (signal) => sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }), { abortSignal: signal })),
        (answer) => answer.Attributes?.["QueueArn"] ?? ""
      )
    const queueAt = (name: string, url: string | undefined) => Effect.map(arnOf(url ?? ""), (arn): Queue => ({ name, url: url ?? "", arn }))

    const lookUp = (name: string): Effect.Effect<Queue, Errors.InfrastructureError> =>
      Effect.flatMap(
        call("SQS", "GetQueueUrl", (signal) => sqs.send(new GetQueueUrlCommand({ QueueName: name }), { abortSignal: signal }), (error) =>
          error === "QueueDoesNotExist" || error === "AWS.SimpleQueueService.NonExistentQueue" ? missing("queue", name) : undefined),
        (answer) => queueAt(name, answer.QueueUrl)
      )

    /** Creates the queue, or brings an existing one's attributes up to date (CreateQueue refuses different ones). */
    const createQueue = (name: string, attributes: Record<string, string>): Effect.Effect<Queue, Errors.InfrastructureError> =>
      call("SQS", "CreateQueue", (signal) => sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }), { abortSignal: signal }), (error) =>
        error.endsWith("QueueNameExists") || error.endsWith("QueueAlreadyExists") ? "exists" as const : undefined).pipe(
          Effect.flatMap((answer) => queueAt(name, answer.QueueUrl)),
          Effect.catchIf((error) => error === "exists", () =>
            Effect.flatMap(lookUp(name), (queue) => {
              const { FifoQueue: _fifo, ...settable } = attributes
              return Effect.as(
                call("SQS", "SetQueueAttributes", (signal) => sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: settable }), { abortSignal: signal })),
                queue
              )
            })),
          Effect.tap(() => Effect.sync(() => void created.push(`queue ${name}`)))
        )

    /** Lets one topic or bucket send to the queue; idempotent. */
    const allow = (queue: Queue, principal: string, sourceArn: string) =>
      call("SQS", "SetQueueAttributes", (signal) =>
        sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: { Policy: sendPolicy(queue.arn, principal, sourceArn) } }), { abortSignal: signal }))

    const queues = new Map<string, Effect.Effect<Queue, Errors.InfrastructureError>>()
    const queueWithDeadLetters = (name: string, fifo: boolean) =>
      memo(queues, name, !resolved.create ? lookUp(name) : Effect.gen(function*() {
        const base: Record<string, string> = fifo ? { FifoQueue: "true", ContentBasedDeduplication: "false" } : {}
        const deadLetters = yield* createQueue(Names.deadLetterQueue(name), { ...base, MessageRetentionPeriod: "1209600" })
        return yield* createQueue(name, {
          ...base,
          VisibilityTimeout: String(resolved.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: String(resolved.maxReceiveCount) })
        })
      }))

    /** Finds a topic by name without creating it (a worker that may not create resources). */
    const findTopic = (name: string): Effect.Effect<string, Errors.InfrastructureError> => {
      const page = (token: string | undefined): Effect.Effect<string, Errors.InfrastructureError> =>
        Effect.flatMap(call("SNS", "ListTopics", (signal) => sns.send(new ListTopicsCommand({ NextToken: token }), { abortSignal: signal })), (answer) => {
          const found = (answer.Topics ?? []).find((topic) => topic.TopicArn?.endsWith(`:${name}`))
          if (found?.TopicArn !== undefined) return Effect.succeed(found.TopicArn)
          return answer.NextToken === undefined ? Effect.fail(missing("topic", name)) : page(answer.NextToken)
        })
      return page(undefined)
    }

    const topics = new Map<string, Effect.Effect<string, Errors.InfrastructureError>>()
    const fifoTopic = (name: string) =>
      memo(topics, name, !resolved.create ? findTopic(name) : Effect.map(
        call("SNS", "CreateTopic", (signal) =>
          sns.send(new CreateTopicCommand({ Name: name, Attributes: { FifoTopic: "true", ContentBasedDeduplication: "false" } }), { abortSignal: signal })),
        (answer) => {
          created.push(`topic ${name}`)
          return answer.TopicArn ?? ""
        }
      ))

    const subscriptions = new Map<string, Effect.Effect<void, Errors.InfrastructureError>>()
    const subscribe = (topicArn: string, queue: Queue) =>
      memo(subscriptions, `${topicArn} ${queue.arn}`, !resolved.create ? Effect.void : Effect.andThen(
        allow(queue, "sns.amazonaws.com", topicArn),
        Effect.map(
          call("SNS", "Subscribe", (signal) =>
            sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: queue.arn, Attributes: { RawMessageDelivery: "true" } }), {
              abortSignal: signal
            })),
          () => void created.push(`subscription ${queue.name} to ${topicArn.split(":").pop()}`)
        )
      ))

    const buckets = new Map<string, Effect.Effect<void, Errors.InfrastructureError>>()
    const bucket = (name: string, queue: Queue) =>
      memo(buckets, name, !resolved.create
        ? Effect.asVoid(call("S3", "HeadBucket", (signal) => s3.send(new HeadBucketCommand({ Bucket: name }), { abortSignal: signal }), (error) =>
          error === "NotFound" || error === "NoSuchBucket" ? missing("bucket", name) : undefined))
        : Effect.gen(function*() {
          // Outside us-east-1 a bucket must name its region.
          const region = options.region ?? "us-east-1"
          const location = region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
          yield* call("S3", "CreateBucket", (signal) => s3.send(new CreateBucketCommand({ Bucket: name, ...location }), { abortSignal: signal }), (error) =>
            error === "BucketAlreadyOwnedByYou" ? "exists" as const : undefined).pipe(Effect.catchIf((error) => error === "exists", () => Effect.void))
          created.push(`bucket ${name}`)
          yield* allow(queue, "s3.amazonaws.com", `arn:aws:s3:::${name}`)
          // Emulators without notifications (fauxqs) send none whatever this says, and the platform
          // posts them itself (`S3BlobStore.Options.notify`); against AWS a bucket that cannot
          // notify would never run its task, so there a refusal fails provisioning.
          const configured = call("S3", "PutBucketNotificationConfiguration", (signal) =>
            s3.send(
              new PutBucketNotificationConfigurationCommand({
                Bucket: name,
                NotificationConfiguration: { QueueConfigurations: [{ QueueArn: queue.arn, Events: ["s3:ObjectCreated:*"] }] }
              }),
              { abortSignal: signal }
            ))
          yield* resolved.s3Notifications ? configured : Effect.ignore(configured)
        }))

    return Resources.of({
      options: resolved,
      fifoQueue: (name) => queueWithDeadLetters(name, true),
      standardQueue: (name) => queueWithDeadLetters(name, false),
      fifoTopic,
      subscribe,
      bucket,
      created: () => [...created]
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Resources, never, AwsClients> => Layer.effect(Resources, make(options))
