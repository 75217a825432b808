import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { errorContractPlugin, formatClientError, INTERNAL_MESSAGE } from "../src/error-contract.ts";

const format = (error: GraphQLError) => formatClientError(error.toJSON(), error);

describe("router error contract (formatError)", () => {
  it("turns an error without a known code into a generic INTERNAL_SERVER_ERROR", () => {
    const prisma = new GraphQLError("Invalid `prisma.reservation.findMany()` invocation in\n/app/subgraphs/reservation/src/reservations.ts:42:7\nERROR: invalid byte sequence (SQLSTATE 22021)", {
      path: ["reservation"], extensions: { code: "INTERNAL_SERVER_ERROR", serviceName: "reservation", exception: { stacktrace: ["at x (/app/x.ts:1:1)"] } },
    });
    expect(format(prisma)).toEqual({ message: INTERNAL_MESSAGE, path: ["reservation"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
    const gatewayFetch = new GraphQLError("400: Bad Request", { extensions: { response: { url: "http://127.0.0.1:4001/graphql", status: 400 } } });
    expect(format(gatewayFetch)).toEqual({ message: INTERNAL_MESSAGE, extensions: { code: "INTERNAL_SERVER_ERROR" } });
    const unknownCode = new GraphQLError("downstream", { extensions: { code: "DOWNSTREAM_SERVICE_ERROR" } });
    expect(format(unknownCode).extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
  });

  it("keeps known codes and primitive details, drops gateway internals, redacts what slipped into a message", () => {
    const conflict = new GraphQLError("car car-001 is already reserved; see http://10.0.0.7:4001/graphql", {
      extensions: { code: "CONFLICT", carId: "car-001", serviceName: "reservation", response: { body: "x" }, nested: { a: 1 } },
    });
    expect(format(conflict)).toEqual({ message: "car car-001 is already reserved; see [redacted]", extensions: { code: "CONFLICT", carId: "car-001" } });
    const card = new GraphQLError("Variable \"$i\" got invalid value 4000056655665556 at \"i.cardNumber\"", { extensions: { code: "BAD_USER_INPUT" } });
    expect(format(card).message).toBe("Variable \"$i\" got invalid value ****5556 at \"i.cardNumber\"");
  });

  it("lets SERVICE_UNAVAILABLE carry only its code and the subgraph's name", () => {
    const down = new GraphQLError("payment is temporarily unavailable; try again later", {
      path: ["reservation", "payment"], extensions: { code: "SERVICE_UNAVAILABLE", service: "payment", serviceName: "payment", url: "http://payment:4002" },
    });
    expect(format(down)).toEqual({ message: down.message, path: ["reservation", "payment"], extensions: { code: "SERVICE_UNAVAILABLE", service: "payment" } });
  });

  it("gives every INTERNAL_SERVER_ERROR the request id (logged with the full error) and every response the x-request-id header", async () => {
    const listener = await errorContractPlugin().requestDidStart!({} as never);
    const errors = [{ message: INTERNAL_MESSAGE, extensions: { code: "INTERNAL_SERVER_ERROR" } }, { message: "no", extensions: { code: "NOT_FOUND" } }];
    const response = { http: { headers: new Map<string, string>() }, body: { kind: "single", singleResult: { errors } } };
    await listener!.willSendResponse!({ response, contextValue: { requestId: "req-00000042" } } as never);
    expect(errors[0]!.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR", requestId: "req-00000042" });
    expect(errors[1]!.extensions).toEqual({ code: "NOT_FOUND" });
    expect(response.http.headers.get("x-request-id")).toBe("req-00000042");
  });
});
