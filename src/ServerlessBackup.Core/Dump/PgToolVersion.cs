namespace ServerlessBackup.Dump;

/// <summary>A PostgreSQL client tool found on this machine.</summary>
/// <param name="Path">Full path of the executable.</param>
/// <param name="Major">Major version (15 for 15.18).</param>
/// <param name="Version">The full version text, e.g. "15.18".</param>
public sealed record PgToolVersion(string Path, int Major, string Version);
