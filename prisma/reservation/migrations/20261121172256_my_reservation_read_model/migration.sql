-- CreateTable
CREATE TABLE "my_reservation" (
    "reservation_id" UUID NOT NULL,
    "customer_id" TEXT NOT NULL,
    "car_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "payment_status" TEXT,
    "rental_status" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "my_reservation_pkey" PRIMARY KEY ("reservation_id")
);

-- CreateIndex
CREATE INDEX "my_reservation_customer_id_created_at_reservation_id_idx" ON "my_reservation"("customer_id", "created_at" DESC, "reservation_id");
