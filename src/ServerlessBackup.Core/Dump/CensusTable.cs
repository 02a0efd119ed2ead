namespace ServerlessBackup.Dump;

/// <summary>One table's row count inside the dump's snapshot.</summary>
/// <param name="Schema">Schema name.</param>
/// <param name="Name">Table name.</param>
/// <param name="Rows">Row count (exact, or the planner's estimate when <paramref name="Estimated"/>).</param>
/// <param name="Estimated">True when <paramref name="Rows"/> is pg_class.reltuples.</param>
public sealed record CensusTable(string Schema, string Name, long Rows, bool Estimated);
