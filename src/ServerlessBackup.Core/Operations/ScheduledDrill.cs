using ServerlessBackup.Drills;

namespace ServerlessBackup.Operations;

/// <summary>The drill a schedule starts: every catalogued database, with the defaults of <c>sbk drill</c>.</summary>
public static class ScheduledDrill
{
    /// <summary>The drill operation for <paramref name="drillId"/>, started by the schedule at <paramref name="now"/>.</summary>
    public static OperationRecord Create(DrillEngine drills, string drillId, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(drills);
        var input = drills.CreateInput() with { DrillId = drillId };
        return new OperationRecord
        {
            Id = drillId, Kind = OperationKinds.Drill, Database = input.Databases[0].Database, Level = input.Level.ToString().ToLowerInvariant(), Drill = input,
            Status = OperationStatus.Queued, CreatedBy = "schedule", CreatedAt = now, UpdatedAt = now,
        };
    }
}
