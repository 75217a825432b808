-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ReservationStatus" AS ENUM ('PAYMENT_DELAYED', 'RESERVED', 'CANCELLED', 'COMPLETED');

-- CreateTable
CREATE TABLE "reservation" (
    "id" UUID NOT NULL,
    "customer_id" TEXT NOT NULL,
    "car_id" TEXT NOT NULL,
    "pickup_at" TIMESTAMPTZ(3) NOT NULL,
    "return_at" TIMESTAMPTZ(3) NOT NULL,
    "amount" INTEGER NOT NULL,
    "status" "ReservationStatus" NOT NULL DEFAULT 'RESERVED',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "reservation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "car_rate" (
    "car_id" TEXT NOT NULL,
    "daily_rate" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "car_rate_pkey" PRIMARY KEY ("car_id")
);

-- CreateIndex
CREATE INDEX "reservation_customer_id_created_at_idx" ON "reservation"("customer_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "reservation_car_id_idx" ON "reservation"("car_id");

-- ---------------------------------------------------------------------------
-- Added by hand (not generated from schema.prisma, which cannot express it):
-- an active reservation (RESERVED or PAYMENT_DELAYED) holds its car for the
-- half-open period [pickup_at, return_at), and two active reservations of one
-- car may not overlap. Violations fail with SQLSTATE 23P01 (exclusion_violation).
-- btree_gist provides the gist operator class for the equality on car_id.
-- ---------------------------------------------------------------------------
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE "reservation" ADD CONSTRAINT "reservation_no_overlap" EXCLUDE USING gist (
    "car_id" WITH =,
    tstzrange("pickup_at", "return_at", '[)') WITH &&
) WHERE ("status" IN ('RESERVED', 'PAYMENT_DELAYED'));
