/**
 * The platform guarantees, the same suite the memory and PostgreSQL platforms pass, on AWS:
 * commands through SQS FIFO and blobs through S3 (fauxqs), the log on PostgreSQL.
 */
import { Conformance } from "@reventless/testing"
import { fauxqs, freshPlatform } from "./support.ts"

const server = await fauxqs()

Conformance.suite("aws", freshPlatform(server.address, "conformance"))
