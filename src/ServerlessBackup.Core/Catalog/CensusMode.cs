namespace ServerlessBackup.Catalog;

/// <summary>How the row census in the manifest is taken.</summary>
public enum CensusMode
{
    /// <summary>count(*) of every table inside the dump's snapshot (default).</summary>
    Exact,
    /// <summary>The planner's estimates (pg_class.reltuples); cheap on huge tables, not exact.</summary>
    Estimate,
    /// <summary>No census.</summary>
    None,
}
