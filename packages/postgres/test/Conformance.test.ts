/**
 * The platform guarantees and the DCB store contract, the same suites the memory platform passes,
 * on PostgreSQL: every test gets a fresh database.
 */
import { DcbEventStore, Plugin } from "@reventless/core"
import { Conformance, DcbConformance } from "@reventless/testing"
import { Effect, Layer } from "effect"
import { PostgresPlatform } from "../src/index.ts"
import { freshDatabase } from "./support.ts"

const platform = Layer.unwrap(Effect.map(freshDatabase("conformance"), (url) => PostgresPlatform.layer({ url, maxConnections: 4 })))

Conformance.suite("postgres", platform)

DcbConformance.suite(
  "postgres",
  DcbEventStore.fromEventStore(Plugin.dcbLog({ name: "Contract" })).pipe(Layer.provide(platform))
)

Conformance.scaleOutSuite(
  "postgres",
  Effect.map(freshDatabase("scaleout"), (url) => PostgresPlatform.layer({ url, maxConnections: 4, leases: { ttlSeconds: 2 }, commands: { leaseSeconds: 2 } }))
)
