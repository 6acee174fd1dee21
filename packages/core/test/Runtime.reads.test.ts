/**
 * Read models through the runtime: lists with filters and pages, the authorization hook on every
 * read and operation, and watching a ReadModelStream.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Authorization,
  Errors,
  QueryEngine,
  Runtime
} from "@reventless/core"
import { Effect, Fiber, Layer, Option, Stream } from "effect"
import { Deposit, Explode, Account, Balances, bank } from "./fixtures/bank.ts"

describe("Runtime: reads", () => {
  it.effect("read models list by field equality, a page at a time, through the runtime and the QueryEngine", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const deposits = [["a1", 150], ["a2", 20], ["a3", 100], ["a4", 99], ["a5", 300], ["a6", 120], ["a7", 5]] as const
      yield* Effect.forEach(deposits, ([id, amount]) => Runtime.execute(Account, id, Deposit.make({ amount })))
      yield* runtime.awaitIdle
      const first = yield* runtime.list("Balances", { where: { tier: "gold" }, limit: 3 })
      assert.deepStrictEqual(first.items.map((item) => item.id), ["a1", "a3", "a5"])
      assert.isTrue(Option.isSome(first.next))
      const second = yield* runtime.list("Balances", { where: { tier: "gold" }, limit: 3, after: Option.getOrThrow(first.next) })
      assert.deepStrictEqual(second.items.map((item) => item.id), ["a6"])
      assert.isTrue(Option.isNone(second.next))
      const typed = yield* QueryEngine.list(Balances, { where: { tier: "basic" } }).pipe(Effect.provide(QueryEngine.layer))
      assert.deepStrictEqual(typed.items.map((item) => [item.id, item.row.balance]), [["a2", 20], ["a4", 99], ["a7", 5]])
    }).pipe(Effect.provide(bank())))

  it.effect("the authorization hook refuses before anything is written or read", () => {
    const hook: Authorization.Hook = {
      authorize: (request) =>
        request.user === "mallory"
          ? Effect.fail(new Errors.Unauthorized({ user: request.user, action: request._tag, reason: "blocked" }))
          : Effect.void
    }
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const refused = yield* Effect.flip(Runtime.execute(Account, "m", Deposit.make({ amount: 1 }), { user: "mallory" }))
      assert.strictEqual(refused._tag, "Unauthorized")
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.readStream("Account", "m"), [])
      yield* Runtime.execute(Account, "m", Deposit.make({ amount: 1 }), { user: "alice" })
      yield* runtime.awaitIdle
      assert.strictEqual((yield* Effect.flip(runtime.query("Balances", "m", { user: "mallory" })))._tag, "Unauthorized")
      assert.isTrue(Option.isSome(yield* runtime.query("Balances", "m", { user: "alice" })))
    }).pipe(Effect.provide(bank().pipe(Layer.provide(Layer.succeed(Authorization.Authorization, hook)))))
  })

  it.effect("every read and every operation goes through the hook with its user: streams, rows (filtered), watch, dead letters, status, rebuild; a replay is authorized again for its sender", () => {
    const revoked = new Set<string>()
    const owns = (user: string, id: string) => user === "admin" || id.startsWith(`${user}-`)
    const seen: Array<string> = []
    const hook: Authorization.Hook = {
      authorize: (request) => {
        seen.push(request._tag === "Operation" ? `${request.operation}:${request.user}` : `${request._tag}:${request.user}`)
        const refuse = Effect.fail(new Errors.Unauthorized({ user: request.user, action: request._tag, reason: "not yours" }))
        switch (request._tag) {
          case "Command":
            return owns(request.user, request.id) && !revoked.has(request.user) ? Effect.void : refuse
          case "Stream":
            return owns(request.user, request.id) ? Effect.void : refuse
          case "Row":
            // And bob is not shown gold accounts, even his own.
            return owns(request.user, request.id) && !(request.user === "bob" && (request.row as { tier?: string } | undefined)?.tier === "gold") ? Effect.void : refuse
          case "Query":
          case "Watch":
            return Effect.void
          case "Operation":
            return request.user === "admin" ? Effect.void : refuse
        }
      }
    }
    const as = (user: string) => ({ user })
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const bobsView = yield* Effect.forkChild(runtime.watch("Balances", as("bob")).pipe(Stream.take(2), Stream.runCollect), { startImmediately: true })
      yield* Runtime.execute(Account, "alice-1", Deposit.make({ amount: 5 }), as("alice"))
      yield* Runtime.execute(Account, "bob-1", Deposit.make({ amount: 7 }), as("bob"))
      yield* Runtime.execute(Account, "bob-1", Deposit.make({ amount: 100 }), as("bob"))
      yield* runtime.awaitIdle
      // Alice's row is left out; bob's, once gold, is gone from his view.
      assert.deepStrictEqual(yield* Fiber.join(bobsView), [{ _tag: "Put", id: "bob-1", row: { balance: 7, tier: "basic" } }, { _tag: "Delete", id: "bob-1" }])

      // Streams and state: only one's own.
      assert.strictEqual((yield* Effect.flip(runtime.readStream("Account", "alice-1", as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.state("Account", "alice-1", as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.readStream("Account", "alice-1")))._tag, "Unauthorized", "no user is anonymous, not a pass")
      assert.strictEqual((yield* runtime.readStream("Account", "bob-1", as("bob"))).length, 2)
      assert.deepStrictEqual((yield* runtime.state("Account", "alice-1", as("alice"))).version, 1)
      // Rows: a list is filtered row by row; a row one may not see is none.
      assert.deepStrictEqual((yield* runtime.list("Balances", as("bob"))).items.map((item) => item.id), [], "bob's own row is gold now")
      assert.deepStrictEqual((yield* runtime.list("Balances", as("alice"))).items.map((item) => item.id), ["alice-1"])
      assert.deepStrictEqual((yield* runtime.list("Balances", as("admin"))).items.map((item) => item.id), ["alice-1", "bob-1"])
      assert.isTrue(Option.isNone(yield* runtime.query("Balances", "alice-1", as("bob"))))
      assert.isTrue(Option.isSome(yield* runtime.query("Balances", "alice-1", as("alice"))))

      // Operations: the operator's only.
      const failed = yield* Effect.flip(Runtime.execute(Account, "bob-2", Explode.make({}), as("bob")))
      assert.strictEqual(failed._tag, "CommandFailed")
      assert.strictEqual((yield* Effect.flip(runtime.deadLetters.list(as("bob"))))._tag, "Unauthorized")
      const [letter] = yield* runtime.deadLetters.list(as("admin"))
      assert.strictEqual((yield* Effect.flip(runtime.deadLetters.skip(letter!.id, as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.deadLetters.replay(letter!.id, as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.status(as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.rebuild("Balances", as("bob"))))._tag, "Unauthorized")
      assert.isAbove((yield* runtime.status(as("admin"))).consumers.length, 0)
      // The replay of bob's command is authorized again for bob: revoked meanwhile, it stays parked.
      revoked.add("bob")
      assert.strictEqual((yield* Effect.flip(runtime.deadLetters.replay(letter!.id, as("admin"))))._tag, "Unauthorized")
      assert.deepStrictEqual((yield* runtime.deadLetters.list(as("admin"))).map((parked) => parked.id), [letter!.id], "still parked")
      // Nor may a refused sender read an outcome: asked as the send would be.
      const deposit = { component: "Account", id: "bob-1", command: { _tag: "Deposit", amount: 1 }, meta: { msgId: "bob-deposit", user: "bob" } }
      assert.strictEqual((yield* Effect.flip(runtime.outcome(deposit)))._tag, "Unauthorized")
      revoked.delete("bob")
      assert.strictEqual((yield* runtime.deadLetters.replay(letter!.id, as("admin"))).id, letter!.id)
      assert.strictEqual((yield* Effect.flip(runtime.status({ user: "a\u0000" })))._tag, "InvalidInput", "an operator's user is held to the limits too")
      for (const asked of ["Stream:bob", "Row:bob", "Watch:bob", "ListDeadLetters:bob", "SkipDeadLetter:bob", "ReplayDeadLetter:admin", "Status:bob", "Rebuild:bob"]) {
        assert.include(seen, asked)
      }
    }).pipe(Effect.provide(bank().pipe(Layer.provide(Layer.succeed(Authorization.Authorization, hook)))))
  })

  it.effect("a ReadModelStream can be watched: every row change, in order", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      // Started at once: the watcher subscribes before the first command is sent.
      const watching = yield* Effect.forkChild(runtime.watch("Balances").pipe(Stream.take(3), Stream.runCollect), { startImmediately: true })
      yield* Runtime.execute(Account, "w", Deposit.make({ amount: 60 }))
      yield* Runtime.execute(Account, "w", Deposit.make({ amount: 60 }))
      yield* Runtime.execute(Account, "v", Deposit.make({ amount: 1 }))
      const changes = yield* Fiber.join(watching)
      assert.deepStrictEqual(changes, [
        { _tag: "Put", id: "w", row: { balance: 60, tier: "basic" } },
        { _tag: "Put", id: "w", row: { balance: 120, tier: "gold" } },
        { _tag: "Put", id: "v", row: { balance: 1, tier: "basic" } }
      ])
    }).pipe(Effect.provide(bank())))
})
