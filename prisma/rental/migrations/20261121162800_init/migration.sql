-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "RentalStatus" AS ENUM ('READY', 'PICKED_UP', 'RETURNED', 'CANCELLED');

-- CreateTable
CREATE TABLE "car" (
    "id" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "plate_number" TEXT NOT NULL,
    "daily_rate" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "car_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rental" (
    "id" UUID NOT NULL,
    "reservation_id" UUID NOT NULL,
    "customer_id" TEXT NOT NULL,
    "car_id" TEXT NOT NULL,
    "status" "RentalStatus" NOT NULL DEFAULT 'READY',
    "picked_up_at" TIMESTAMPTZ(3),
    "returned_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rental_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "car_plate_number_key" ON "car"("plate_number");

-- CreateIndex
CREATE UNIQUE INDEX "rental_reservation_id_key" ON "rental"("reservation_id");

-- CreateIndex
CREATE INDEX "rental_car_id_idx" ON "rental"("car_id");

-- CreateIndex
CREATE INDEX "rental_customer_id_idx" ON "rental"("customer_id");

-- AddForeignKey
ALTER TABLE "rental" ADD CONSTRAINT "rental_car_id_fkey" FOREIGN KEY ("car_id") REFERENCES "car"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
