import { MemoryPlatform } from "@reventless/core"
import { Conformance } from "@reventless/testing"

Conformance.suite("memory", MemoryPlatform.layer)
