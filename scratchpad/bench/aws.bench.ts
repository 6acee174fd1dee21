/**
 * AWS: commands through our SQS CommandTopic and processing side by side with the raw SDK doing
 * the same send / receive / delete against the same fauxqs, in one run; and the fan-out latency
 * of extension-point events from one deployment to another.
 *
 * - Commands: `commands` Deposit commands over 64 aggregates, sent by 16 concurrent callers one
 *   message per send, until every one is processed; commands/s. Raw: `SendMessage` per command
 *   (group = aggregate, a fresh deduplication id), two consumers long-polling 10 at a time and
 *   deleting each batch: the transport alone, no store, no decision (the ceiling). Ours:
 *   `Runtime.send` on the aws platform (encode, validate, SendMessage), two pollers per queue,
 *   decide on warm state, commit events and outcome to PostgreSQL, delete the batch.
 * - Fan-out: an owner deployment's command appends an event that its extension point publishes;
 *   the latency from the command's outcome (the event committed) to the extension-point event
 *   imported into the subscriber deployment's log (relay consumer → SNS FIFO → the subscriber's
 *   SQS FIFO queue → import), `events` times one after another; p50 and p99 in ms.
 *
 * fauxqs runs in a child process (a server of its own, as SQS is), PostgreSQL embedded (or
 * `DATABASE_URL`). Usage: `node scratchpad/bench/aws.bench.ts [scale] [rounds]` (`pnpm
 * bench:aws`; scale 1, 5 rounds). The two contenders run back to back in each round, and the
 * ratio is the median of the rounds' ratios: the machine's swings between rounds (up to 1.5x
 * here) then cancel out. The table goes to stdout, progress to stderr.
 */
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs"
import { AwsPlatform } from "@reventless/aws"
import { EventStore, Extension, ExtensionPoint, Plugin, Runtime } from "@reventless/core"
import { EmbeddedServer } from "@reventless/postgres"
import { Effect, Layer, ManagedRuntime, Redacted, Schema } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { Account, deposit } from "./account.ts"
import { median, runCallers, timed } from "./harness.ts"

const scale = Number(process.argv[2] ?? 1)
if (!(scale > 0)) throw new Error(`scale must be a positive number, got ${process.argv[2]}`)
const rounds = Number(process.argv[3] ?? 5)
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`rounds must be a positive integer, got ${process.argv[3]}`)
const commands = Math.max(1, Math.round(2000 * scale))
const events = Math.max(1, Math.round(200 * scale))
const callers = 16
const aggregates = 64
const log = (line: string) => console.error(line)

// --- servers ------------------------------------------------------------------------------------

/** fauxqs in a child process; resolves with its address once it listens. */
const startFauxqs = (): Promise<{ readonly address: string; readonly child: ChildProcess }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-warnings", "--input-type=module", "-e",
      `import { startFauxqs } from "fauxqs"; const s = await startFauxqs({ port: 0, logger: false }); console.log(s.address)`], {
      cwd: import.meta.dirname,
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.stdout!.once("data", (chunk: Buffer) => resolve({ address: chunk.toString().trim(), child }))
    child.once("exit", (code) => reject(new Error(`fauxqs exited with ${code}`)))
  })

const fauxqs = await startFauxqs()
const credentials = { accessKeyId: "bench", secretAccessKey: "bench" }
const dataDir = mkdtempSync(join(tmpdir(), "reventless-bench-aws-"))
const server = process.env.DATABASE_URL === undefined ? await EmbeddedServer.start({ dataDir: join(dataDir, "data") }) : undefined
const admin = new pg.Client({ connectionString: server?.url ?? process.env.DATABASE_URL! })
await admin.connect()
let databases = 0
/** A new, empty database; its URL. */
const databaseUrl = async () => {
  const name = `bench_aws_${++databases}`
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(server?.url ?? process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  return url.toString()
}
const platform = (url: string, prefix: string) =>
  AwsPlatform.layer({
    database: { url },
    aws: { region: "us-east-1", endpoint: fauxqs.address, credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: Redacted.make(credentials.secretAccessKey) } },
    resources: { prefix, create: true },
    commands: { waitTimeSeconds: 1 },
    extensionPoints: { waitTimeSeconds: 1 }
  })
const id = (k: number) => `acc-${k % aggregates}`

// --- commands -----------------------------------------------------------------------------------

/** The transport alone: SendMessage per command, two consumers receiving 10 and deleting. */
const raw = async (round: number): Promise<number> => {
  const sqs = new SQSClient({ region: "us-east-1", endpoint: fauxqs.address, credentials })
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `raw-${round}.fifo`, Attributes: { FifoQueue: "true", VisibilityTimeout: "30" } }))
  let received = 0
  const seconds = await timed(async () => {
    const consumer = async () => {
      while (received < commands) {
        const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
        const messages = answer.Messages ?? []
        if (messages.length === 0) continue
        received += messages.length
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }))
      }
    }
    let sent = 0
    await Promise.all([
      runCallers(callers, commands, async () => {
        const k = sent++
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ component: "Bank.Account", id: id(k), command: deposit(1) }), MessageGroupId: id(k), MessageDeduplicationId: `r${round}-${k}` }))
      }),
      consumer(),
      consumer()
    ])
  })
  sqs.destroy()
  return commands / seconds
}

/** `Runtime.send` on the aws platform until every command is processed. */
const ours = async (round: number): Promise<number> => {
  const bank = Plugin.make({ name: "Bank", heartbeatInterval: 60, aggregates: [Account] })
  const runtime = ManagedRuntime.make(Runtime.layer({ plugins: [bank], concurrency: 16 }).pipe(Layer.provideMerge(platform(await databaseUrl(), `ours${round}`))))
  await runtime.runPromise(Runtime.awaitIdle)
  let sent = 0
  const seconds = await timed(async () => {
    await runCallers(callers, commands, () => runtime.runPromise(Effect.flatMap(Runtime.Runtime, (r) => r.send({ component: "Bank.Account", id: id(sent++), command: deposit(1) }))).then(() => {}))
    await runtime.runPromise(Runtime.awaitIdle)
  })
  const processed = await runtime.runPromise(Effect.flatMap(EventStore.EventStore, (store) => store.head))
  if (processed !== commands) throw new Error(`ours processed ${processed} of ${commands} commands`)
  await runtime.dispose()
  return commands / seconds
}

// --- fan-out ------------------------------------------------------------------------------------

const Deposited = Schema.TaggedStruct("Deposited", { account: Schema.String, amount: Schema.Finite })
const DepositsContract = ExtensionPoint.spec({ name: "Bank.Deposits", event: Deposited })
const owner = Plugin.make({
  name: "Bank",
  heartbeatInterval: 60,
  aggregates: [Account],
  extensionPoints: [ExtensionPoint.make({
    spec: DepositsContract,
    delegate: Account,
    mapOutgoingEvent: ({ id: account, value }) => [ExtensionPoint.publishEvent(account, Deposited.make({ account, amount: value.amount }))]
  })]
})
/** The subscriber only needs to extend the extension point to get its events imported. */
const subscriber = Plugin.make({
  name: "Audit",
  heartbeatInterval: 60,
  aggregates: [Account],
  extensions: [Extension.make({ name: "Deposits", extensionPoint: DepositsContract, delegate: Account, mapIncomingEvent: () => [] })]
})

const fanOut = async (round: number): Promise<ReadonlyArray<number>> => {
  const prefix = `fan${round}`
  const subscriberSide = ManagedRuntime.make(Runtime.layer({ plugins: [subscriber] }).pipe(Layer.provideMerge(platform(await databaseUrl(), prefix))))
  const ownerSide = ManagedRuntime.make(Runtime.layer({ plugins: [owner] }).pipe(Layer.provideMerge(platform(await databaseUrl(), prefix))))
  await subscriberSide.runPromise(Runtime.awaitIdle)
  await ownerSide.runPromise(Runtime.awaitIdle)
  const imported = (after: number) =>
    subscriberSide.runPromise(Effect.flatMap(EventStore.EventStore, (store) => store.readAll({ after, limit: 10, sources: new Set(["Bank.Deposits"]) })))
  const latencies: Array<number> = []
  let seen = 0
  for (let k = 0; k < events; k++) {
    await ownerSide.runPromise(Runtime.execute(Account, id(k), deposit(1)))
    const start = performance.now()
    while (true) {
      const page = await imported(seen)
      if (page.events.length > 0) {
        seen = page.events[page.events.length - 1]!.position
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    latencies.push(performance.now() - start)
  }
  await ownerSide.dispose()
  await subscriberSide.dispose()
  return latencies
}

// --- main ---------------------------------------------------------------------------------------

const percentile = (values: ReadonlyArray<number>, p: number) => [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))]!
try {
  const rawRates: Array<number> = []
  const ourRates: Array<number> = []
  const p50s: Array<number> = []
  const p99s: Array<number> = []
  for (let round = 1; round <= rounds; round++) {
    log(`--- round ${round} of ${rounds}`)
    rawRates.push(await raw(round))
    ourRates.push(await ours(round))
    const latencies = await fanOut(round)
    p50s.push(percentile(latencies, 0.5))
    p99s.push(percentile(latencies, 0.99))
    log(`raw ${Math.round(rawRates.at(-1)!)}/s, ours ${Math.round(ourRates.at(-1)!)}/s, fan-out p50 ${p50s.at(-1)!.toFixed(1)} ms p99 ${p99s.at(-1)!.toFixed(1)} ms`)
  }
  const format = (n: number) => Math.round(n).toLocaleString("en-US")
  console.log(`| scenario | unit | Reventless | raw SDK | vs raw (median of rounds) | target | met |`)
  console.log(`|---|---|---:|---:|---:|---|---|`)
  const ratio = median(ourRates.map((rate, i) => rate / rawRates[i]!))
  console.log(`| commands, ${aggregates} aggregates, ${callers} senders, until processed | commands/s | ${format(median(ourRates))} | ${format(median(rawRates))} | ${ratio.toFixed(2)}x | >= 0.8x raw | ${ratio >= 0.8 ? "yes" : "NO"} |`)
  console.log(`| extension-point fan-out to another deployment, p50 | ms | ${median(p50s).toFixed(1)} | | | | |`)
  console.log(`| extension-point fan-out to another deployment, p99 | ms | ${median(p99s).toFixed(1)} | | | | |`)
  console.log(`\nrounds (ours / raw commands/s; fan-out p50 / p99 ms): ${ourRates.map((rate, i) => `${format(rate)} / ${format(rawRates[i]!)}; ${p50s[i]!.toFixed(1)} / ${p99s[i]!.toFixed(1)}`).join(" | ")}`)
} finally {
  await admin.end()
  await server?.stop()
  fauxqs.child.kill()
}
