import { DcbEventStore } from "@reventless/core"
import { DcbConformance } from "@reventless/testing"

DcbConformance.suite("memory", DcbEventStore.layerMemory)
