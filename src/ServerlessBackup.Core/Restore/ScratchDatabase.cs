namespace ServerlessBackup.Restore;

/// <summary>A scratch database sbk created on the scratch server.</summary>
/// <param name="Name">Its name on the server (prefix <c>sbk_scratch_</c>).</param>
/// <param name="SourceDatabase">The catalog name of the database whose backup it holds.</param>
/// <param name="BackupId">The backup restored into it.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="ExpiresAt">When <c>sbk scratch sweep</c> may drop it.</param>
/// <param name="SizeBytes">Its size on the server.</param>
/// <param name="Complete">Whether its restore finished (false: being restored, or left half-made by a killed restore).</param>
public sealed record ScratchDatabase(string Name, string SourceDatabase, string BackupId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, long SizeBytes, bool Complete = true)
{
    /// <summary>Whether it is past its expiry at <paramref name="now"/>.</summary>
    public bool IsExpiredAt(DateTimeOffset now) => now >= ExpiresAt;
}
