import DataLoader from "dataloader";

/**
 * A per-request DataLoader that fetches many rows in one query and returns them in
 * key order (`null` for keys with no row). This is how entity references resolve in
 * batches: one database query per entity type per request, whatever the list size.
 */
export function batchLoader<K extends string, V>(
  fetchMany: (keys: readonly K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(async (keys) => {
    const rows = await fetchMany(keys);
    const byKey = new Map(rows.map((row) => [keyOf(row), row] as const));
    return keys.map((key) => byKey.get(key) ?? null);
  });
}
