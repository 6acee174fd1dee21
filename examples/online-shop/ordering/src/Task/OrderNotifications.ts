/** The task hosting Ordering's notifications (the seed's Task/OrderNotifications.res). */
import { Task } from "@reventless/core"
import type { EmailService } from "../EmailService.ts"
import { OrderConfirmationEmail } from "../Order/Order.confirmationEmail.ts"

export const OrderNotifications = Task.make<EmailService>({ name: "OrderNotifications", sideEffects: [OrderConfirmationEmail] })
