using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ServerlessBackup.Api;
using ServerlessBackup.Audit;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Drills;
using ServerlessBackup.Notify;
using ServerlessBackup.Operations;
using ServerlessBackup.Restore;
using ServerlessBackup.Retention;
using ServerlessBackup.Schedules;
using ServerlessBackup.Verify;

namespace ServerlessBackup;

/// <summary>
/// Every JSON shape sbk reads or writes, with its serialization code generated at build time: no
/// reflection at run time (sbk is published as a native executable, which has none to offer), and a
/// type missing here fails every test that serializes it, not a user's run. Options decide the
/// wire format (naming, enums as names, indentation) exactly as before; this only supplies the code.
/// </summary>
[JsonSerializable(typeof(Manifest))]
[JsonSerializable(typeof(ManifestPrivate))]
[JsonSerializable(typeof(BackupEngine.StoredVerification))]
[JsonSerializable(typeof(VerificationReport))]
[JsonSerializable(typeof(BackupAttempt))]
[JsonSerializable(typeof(DrillEngine.StoredDrill))]
[JsonSerializable(typeof(DrillReport))]
[JsonSerializable(typeof(DrillInput))]
[JsonSerializable(typeof(List<DrillTrendPoint>))]
[JsonSerializable(typeof(DrillHistoryInput))]
[JsonSerializable(typeof(DrillTarget))]
[JsonSerializable(typeof(DrillBackup))]
[JsonSerializable(typeof(DrillRestoreInput))]
[JsonSerializable(typeof(DrillRestoreOutput))]
[JsonSerializable(typeof(DrillVerifyInput))]
[JsonSerializable(typeof(DrillVerifyOutput))]
[JsonSerializable(typeof(DrillDropInput))]
[JsonSerializable(typeof(RunDueBackupInput))]
[JsonSerializable(typeof(RunDueResult))]
[JsonSerializable(typeof(OperationRecord))]
[JsonSerializable(typeof(OperationOutcome))]
[JsonSerializable(typeof(OperationProgress))]
[JsonSerializable(typeof(OperationRecord.OperationView))]
[JsonSerializable(typeof(DatabaseSlots.Slot))]
[JsonSerializable(typeof(OperationExecutor.RestoreSummary))]
[JsonSerializable(typeof(OperationExecutor.VerificationSummary))]
[JsonSerializable(typeof(OperationExecutor.BackupSummaryView))]
[JsonSerializable(typeof(OperationExecutor.DrillSummary))]
[JsonSerializable(typeof(SbkApi.BackupBody))]
[JsonSerializable(typeof(SbkApi.RestoreBody))]
[JsonSerializable(typeof(SbkApi.VerificationBody))]
[JsonSerializable(typeof(SbkApi.DrillBody))]
[JsonSerializable(typeof(SbkApi.IdempotencyReservation))]
[JsonSerializable(typeof(SbkApi.DrillList))]
[JsonSerializable(typeof(SbkApi.BackupPage))]
[JsonSerializable(typeof(SbkApi.BackupView))]
[JsonSerializable(typeof(SbkApi.Health))]
[JsonSerializable(typeof(SbkApi.Unavailable))]
[JsonSerializable(typeof(SlackReply))]
[JsonSerializable(typeof(ApiAuthenticator.Seen))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(RetentionEngine.Marker))]
[JsonSerializable(typeof(RetentionEngine.RetentionState))]
[JsonSerializable(typeof(ScratchNames.MarkerJson), TypeInfoPropertyName = "ScratchMarker")]
[JsonSerializable(typeof(SwapNames.MarkerJson), TypeInfoPropertyName = "SwapMarker")]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(object))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(DateTimeOffset))]
internal sealed partial class SbkJsonContext : JsonSerializerContext;

/// <summary>Options over <see cref="SbkJsonContext"/>, and typed access to its shapes.</summary>
internal static class SbkJson
{
    /// <summary>The enums sbk writes by name where options ask for names, each with its converter (a test checks every public enum is here).</summary>
    private static readonly (Type Enum, JsonConverter Converter)[] Named =
    [
        Name<VerificationLevel>(), Name<Schedules.FreshnessState>(), Name<WorkPhase>(), Name<Errors.SbkErrorKind>(), Name<CensusMode>(), Name<CompressionMode>(),
        Name<StoreKind>(), Name<NotificationKind>(), Name<AssertionExpectation>(), Name<Crypto.PayloadEncoding>(), Name<DrillOutcome>(), Name<ArchiveHead.Outcome>(),
    ];

    /// <summary>The enums <see cref="AddNamedEnums"/> writes by name.</summary>
    internal static IEnumerable<Type> NamedEnums => Named.Select(n => n.Enum);

    /// <summary>Web defaults (camelCase, case-insensitive reads); with <paramref name="stringEnums"/>, enums as their names.</summary>
    public static JsonSerializerOptions Web(bool stringEnums = false)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = SbkJsonContext.Default };
        return stringEnums ? AddNamedEnums(options) : options;
    }

    /// <summary>Writes and reads <see cref="NamedEnums"/> by name, as <c>JsonStringEnumConverter</c> did.</summary>
    public static JsonSerializerOptions AddNamedEnums(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (_, converter) in Named)
        {
            options.Converters.Add(converter);
        }

        return options;
    }

    private static (Type, JsonConverter) Name<T>()
        where T : struct, Enum => (typeof(T), new JsonStringEnumConverter<T>());

    /// <summary>The generated code for <typeparamref name="T"/> under <paramref name="options"/>.</summary>
    public static JsonTypeInfo<T> Info<T>(this JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));

    /// <summary>The generated code for the run-time type of <paramref name="value"/> under <paramref name="options"/>.</summary>
    public static JsonTypeInfo InfoOf(this JsonSerializerOptions options, object value) => options.GetTypeInfo(value.GetType());
}
