/**
 * The platform guarantees, the same suite the memory and PostgreSQL platforms pass, on AWS:
 * commands through SQS FIFO and blobs through S3 (fauxqs), the log on PostgreSQL.
 */
import { Conformance } from "@reventless/testing"
import { Effect } from "effect"
import { fauxqs, freshDatabase, freshPlatform, freshPrefix, platformOn } from "./support.ts"

const server = await fauxqs()

Conformance.suite("aws", freshPlatform(server.address, "conformance"))

Conformance.scaleOutSuite(
  "aws",
  Effect.map(freshDatabase("scaleout"), (url) => {
    const resources = { prefix: freshPrefix("scaleout"), create: true, visibilityTimeoutSeconds: 10 }
    return platformOn({ endpoint: server.address, url, resources })
  })
)
