namespace ServerlessBackup.Dump;

/// <summary>The table census taken in the dump's snapshot: what a restore must reproduce.</summary>
/// <param name="Mode">"Exact", "Estimate" or "None".</param>
/// <param name="Tables">Tables, ordered by schema and name.</param>
/// <param name="Sequences">Sequences, ordered by schema and name.</param>
public sealed record Census(string Mode, IReadOnlyList<CensusTable> Tables, IReadOnlyList<CensusSequence> Sequences)
{
    /// <summary>Sum of the row counts.</summary>
    public long TotalRows => Tables.Sum(t => t.Rows);
}
