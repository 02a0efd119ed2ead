using System.Text.Json.Serialization;
using ServerlessBackup.Audit;
using ServerlessBackup.Backups;
using ServerlessBackup.Drills;
using ServerlessBackup.Restore;
using ServerlessBackup.Retention;
using ServerlessBackup.Schedules;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Cli;

/// <summary>What <c>--json</c> writes (with the engine's own shapes from <see cref="SbkJsonContext"/>), its code generated at build time.</summary>
[JsonSerializable(typeof(IReadOnlyList<BackupSummary>))]
[JsonSerializable(typeof(RestoreResult))]
[JsonSerializable(typeof(VerificationReport))]
[JsonSerializable(typeof(DrillReport))]
[JsonSerializable(typeof(IEnumerable<CliJson.DrillLine>))]
[JsonSerializable(typeof(IReadOnlyList<PreviousDatabase>))]
[JsonSerializable(typeof(PreviousDatabase))]
[JsonSerializable(typeof(CliJson.SwapBack))]
[JsonSerializable(typeof(CliJson.PreviousSweep))]
[JsonSerializable(typeof(IEnumerable<CliJson.AuditLine>))]
[JsonSerializable(typeof(CliJson.BackupDone))]
[JsonSerializable(typeof(CliJson.BackupShown))]
[JsonSerializable(typeof(DecryptResult))]
[JsonSerializable(typeof(IReadOnlyList<DatabaseStatus>))]
[JsonSerializable(typeof(IReadOnlyList<ScratchDatabase>))]
[JsonSerializable(typeof(ScratchDatabase))]
[JsonSerializable(typeof(CliJson.ScratchSweep))]
[JsonSerializable(typeof(IReadOnlyList<PruneReport>))]
[JsonSerializable(typeof(IReadOnlyList<RunDueResult>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary>The shapes only the command line writes (member order is the output's order).</summary>
internal static class CliJson
{
    internal sealed record DrillLine(string DrillId, DateTimeOffset StartedAt, int Passed, int Databases);

    internal sealed record SwapBack(PreviousDatabase Restored, PreviousDatabase Aside);

    internal sealed record PreviousSweep(bool DryRun, IReadOnlyList<string> Databases, IReadOnlyList<string> Problems);

    internal sealed record ScratchSweep(bool DryRun, IReadOnlyList<ScratchDatabase> Databases);

    internal sealed record AuditLine(DateTimeOffset At, string Host, string Caller, string Action, string? Target, string Outcome, string? Detail, int? Count, bool Authenticated);

    internal sealed record BackupDone(
        string Database, string BackupId, string? Label, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, DateTimeOffset SnapshotTime, long StoredBytes, long DumpBytes, string Sha256, IReadOnlyList<string> Warnings);

    internal sealed record BackupShown(
        string Database, string BackupId, string? Label, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, DateTimeOffset SnapshotTime, bool SnapshotShared,
        ManifestArchive Archive, ManifestSource Source, MasterKey MasterKey, IReadOnlyList<string> Warnings, Dump.Census Census, string? DumpMessages);

    internal sealed record MasterKey(string Name, string Version);
}
