
namespace ServerlessBackup.Api;

/// <summary>The API's answers, as written (camelCase; nulls left out; member order is the wire order).</summary>
public sealed partial class SbkApi
{
    internal sealed record DrillList(IEnumerable<DrillListItem> Items);

    internal sealed record DrillListItem(string DrillId, DateTimeOffset StartedAt, int Passed, int Databases, string ReportUrl);

    internal sealed record BackupPage(IEnumerable<BackupPageItem> Items, string? NextBefore);

    internal sealed record BackupPageItem(string Database, string BackupId, DateTimeOffset StartedAt, DateTimeOffset SnapshotTime, string? Label, long StoredBytes, long DumpBytes, double AgeHours, string? VerifiedLevel, DateTimeOffset? VerifiedAt);

    internal sealed record BackupView(
        string Database, string BackupId, string? Label, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, DateTimeOffset SnapshotTime, bool SnapshotShared,
        long StoredBytes, long DumpBytes, string Sha256, string ServerVersion, string PgDumpVersion, CensusView Census, IReadOnlyList<string> Warnings);

    internal sealed record CensusView(string Mode, int Tables, long Rows, int Sequences);

    internal sealed record Health(string Status, int Ok, int Late, int Failing);

    internal sealed record Unavailable(string Status);
}
