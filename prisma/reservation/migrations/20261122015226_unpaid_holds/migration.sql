-- CreateEnum
CREATE TYPE "CancellationReason" AS ENUM ('CUSTOMER', 'EXPIRED');

-- AlterTable
ALTER TABLE "reservation" ADD COLUMN     "cancellation_reason" "CancellationReason",
ADD COLUMN     "hold_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "paid_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "my_reservation" ADD COLUMN     "cancellation_reason" TEXT;

-- Hand-written: before automatic expiry only customers cancelled.
UPDATE "reservation" SET "cancellation_reason" = 'CUSTOMER' WHERE "status" = 'CANCELLED';
UPDATE "my_reservation" SET "cancellation_reason" = 'CUSTOMER' WHERE "status" = 'CANCELLED';
