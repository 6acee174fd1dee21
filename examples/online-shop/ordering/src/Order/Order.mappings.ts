/** Auto-ship: a placed order is shipped right away (the seed's Order_Mappings.res). */
import { EventMapping } from "@reventless/core"
import * as Order from "./Order.ts"
import { OrderAggregate } from "./Order.behavior.ts"

export const AutoShip = EventMapping.make({
  name: "AutoShip",
  source: OrderAggregate,
  targets: [OrderAggregate],
  map: ({ event, id }) => event._tag === "Placed" ? [EventMapping.publish(OrderAggregate, id, Order.Ship.make({}))] : []
})
