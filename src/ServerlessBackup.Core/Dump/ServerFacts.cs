namespace ServerlessBackup.Dump;

/// <summary>What preflight learned about the source server.</summary>
/// <param name="VersionNumber">server_version_num, e.g. 150018.</param>
/// <param name="Version">server_version text.</param>
/// <param name="CurrentUser">The role connected.</param>
/// <param name="InRecovery">Whether the server is a standby.</param>
public sealed record ServerFacts(int VersionNumber, string Version, string CurrentUser, bool InRecovery)
{
    /// <summary>The major version (15 for 150018; 9 for 90624 is not supported anyway).</summary>
    public int Major => VersionNumber / 10000;
}
