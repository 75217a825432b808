-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "PaymentStatus" AS ENUM ('REQUESTED', 'PAID', 'REFUNDED', 'CANCELLED');

-- CreateTable
CREATE TABLE "payment" (
    "id" UUID NOT NULL,
    "reservation_id" UUID NOT NULL,
    "customer_id" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "status" "PaymentStatus" NOT NULL DEFAULT 'REQUESTED',
    "card_last4" VARCHAR(4),
    "paid_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "payment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "payment_reservation_id_key" ON "payment"("reservation_id");

-- CreateIndex
CREATE INDEX "payment_customer_id_idx" ON "payment"("customer_id");
