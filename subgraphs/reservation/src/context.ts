import type { RequestContext } from "@rentcar/platform";
import type { ReservationLoaders } from "./loaders.ts";
import type { ReservationDeps } from "./reservations.ts";

export interface ReservationContext extends RequestContext {
  deps: ReservationDeps;
  loaders: ReservationLoaders;
}
