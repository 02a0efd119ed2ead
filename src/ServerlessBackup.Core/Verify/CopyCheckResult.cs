namespace ServerlessBackup.Verify;

/// <summary>The checks run against a restored copy.</summary>
/// <param name="Checks">Census and assertion checks.</param>
/// <param name="RowsVerified">Rows counted and found equal to the census.</param>
/// <param name="Elapsed">How long the checks took.</param>
public sealed record CopyCheckResult(IReadOnlyList<VerificationCheck> Checks, long RowsVerified, TimeSpan Elapsed)
{
    /// <summary>Whether every check passed.</summary>
    public bool Passed => Checks.Count > 0 && Checks.All(c => c.Passed);
}
