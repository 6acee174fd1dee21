/** The tiny decider every contender runs: Deposit → Deposited, state = balance. */
import { Result, Schema } from "effect"
import { Aggregate } from "@reventless/core"

export const Deposit = Schema.TaggedStruct("Deposit", { amount: Schema.Finite })
export const Deposited = Schema.TaggedStruct("Deposited", { amount: Schema.Finite })
export const State = Schema.Struct({ balance: Schema.Finite })
export type State = typeof State.Type

export const evolve = (state: State, event: typeof Deposited.Type): State => ({ balance: state.balance + event.amount })
/** Plain literals, not `Schema.make` (which validates): every contender runs exactly this code. */
export const decide = (_state: State, command: typeof Deposit.Type): Array<typeof Deposited.Type> => [{ _tag: "Deposited", amount: command.amount }]
export const deposit = (amount: number): typeof Deposit.Type => ({ _tag: "Deposit", amount })

export const Account = Aggregate.make({
  name: "Account",
  command: Deposit,
  event: Deposited,
  rejection: Schema.Never,
  state: State,
  initialState: { balance: 0 },
  evolve,
  decide: (state, command) => Result.succeed(decide(state, command))
})
