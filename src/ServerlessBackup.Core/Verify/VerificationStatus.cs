namespace ServerlessBackup.Verify;

/// <summary>The clear facts of a stored verification, which listing shows without any key.</summary>
/// <param name="Level">The level verified.</param>
/// <param name="VerifiedAt">When.</param>
/// <param name="Passed">Whether it passed.</param>
public sealed record VerificationStatus(VerificationLevel Level, DateTimeOffset VerifiedAt, bool Passed);
