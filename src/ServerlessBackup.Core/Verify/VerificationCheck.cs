namespace ServerlessBackup.Verify;

/// <summary>One check of a verification.</summary>
/// <param name="Kind">archive, restore, table, sequence, census or assertion.</param>
/// <param name="Name">What was checked (a table, a sequence, an assertion's name).</param>
/// <param name="Passed">Whether it held.</param>
/// <param name="Expected">What it should be (a row count, a value), if it has one.</param>
/// <param name="Actual">What it was.</param>
/// <param name="Detail">A sentence explaining a failure, or a note.</param>
public sealed record VerificationCheck(string Kind, string Name, bool Passed, string? Expected = null, string? Actual = null, string? Detail = null);
