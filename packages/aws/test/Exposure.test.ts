/**
 * fauxqs has no authentication: as the tests start it, it listens on the loopback address only,
 * so another host (here: this machine's own non-loopback address) cannot reach it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect } from "node:net"
import { networkInterfaces } from "node:os"
import { fauxqs } from "./support.ts"

const server = await fauxqs()

/** Whether a TCP connection to host:port is accepted. */
const reachable = (host: string, port: number) =>
  Effect.callback<boolean>((resume) => {
    const socket = connect({ host, port, timeout: 2_000 })
    const done = (ok: boolean) => {
      socket.destroy()
      resume(Effect.succeed(ok))
    }
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
    socket.once("timeout", () => done(false))
  })

describe("fauxqs as the tests start it", () => {
  it.live("is reachable on 127.0.0.1 and on no other address of this machine", () =>
    Effect.gen(function*() {
      const port = Number(new URL(server.address).port)
      assert.isTrue(yield* reachable("127.0.0.1", port))
      const others = Object.values(networkInterfaces()).flat().filter((address) => address !== undefined && !address.internal && address.family === "IPv4")
      assert.isAbove(others.length, 0, "this machine has a non-loopback address to try")
      for (const address of others) assert.isFalse(yield* reachable(address!.address, port), `reachable on ${address!.address}`)
    }))
})
