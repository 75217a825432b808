-- Hand-written (schema.prisma cannot express a function): the number of a customer's unpaid
-- holds (reservations in one of p_statuses, not paid, not picked up), counted AFTER taking the
-- customer's transaction-scoped hold lock. A VOLATILE function takes a fresh snapshot for each
-- query it runs, so the count sees every hold committed by a reserveCar this one waited for;
-- that lets reserveCar check MAX_UNPAID_HOLDS and insert in one statement (no BEGIN/COMMIT),
-- where a plain subquery would count with the statement's snapshot taken before the wait.
CREATE FUNCTION unpaid_holds_locked(p_customer_id text, p_statuses text[]) RETURNS int
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('unpaid-holds:' || p_customer_id, 0));
  RETURN (SELECT count(*)::int FROM reservation
           WHERE customer_id = p_customer_id AND status::text = ANY(p_statuses) AND paid_at IS NULL AND picked_up_at IS NULL);
END $$;
