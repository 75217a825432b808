// Defined once in platform (the idempotency keys use it too); re-exported for the event code.
export type { SqlClient, TransactionalClient } from "@rentcar/platform";
