using System.Text.RegularExpressions;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Catalog;

/// <summary>Checks a configuration and explains every problem at once.</summary>
public static partial class CatalogValidator
{
    /// <summary>Catalog names: they become store key segments and scratch database name parts.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}\z")]
    public static partial Regex DatabaseNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9-]{1,127}\z")]
    private static partial Regex KeyVaultName();

    /// <summary>Throws one <see cref="SbkException"/> (Configuration) listing every problem, or returns.</summary>
    public static void Validate(SbkOptions options, string source)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.Store.Kind == StoreKind.AzureBlob && options.Store.ConnectionStringSecret is null && options.Store.ServiceUri is null)
        {
            problems.Add("Store:Kind is AzureBlob but neither Store:ConnectionStringSecret nor Store:ServiceUri is set");
        }

        if (options.Store.BlockSizeMiB is < 1 or > 4000)
        {
            problems.Add("Store:BlockSizeMiB must be between 1 and 4000");
        }

        if (options.Store.MaxConcurrency is < 1 or > 64)
        {
            problems.Add("Store:MaxConcurrency must be between 1 and 64");
        }

        if (options.Store.ImmutabilityDays is < 0 or > 36500)
        {
            problems.Add("Store:ImmutabilityDays must be between 0 (off) and 36500");
        }

        if (options.Secrets.Kind.Equals("KeyVault", StringComparison.OrdinalIgnoreCase))
        {
            if (options.Secrets.VaultUri is not { Scheme: "https" })
            {
                problems.Add("Secrets:Kind is KeyVault but Secrets:VaultUri is not an https:// vault address (e.g. https://contoso-backups.vault.azure.net/)");
            }

            if (options.Secrets.CacheSeconds is < 0 or > 86400)
            {
                problems.Add("Secrets:CacheSeconds must be between 0 and 86400");
            }

            // Key Vault secret names: 1-127 letters, digits and dashes.
            var names = new List<(string Where, string? Name)> { ("MasterKeySecret", options.MasterKeySecret), ("Store:ConnectionStringSecret", options.Store.ConnectionStringSecret), ("Scratch:ConnectionStringSecret", options.Scratch.ConnectionStringSecret) };
            names.AddRange(options.Databases.Select(d => ($"Databases:{d.Key}:ConnectionStringSecret", d.Value.ConnectionStringSecret)));
            names.AddRange(options.Notifications.Targets.Select((t, i) => ($"Notifications:Targets:{i}:UrlSecret", t.UrlSecret)));
            foreach (var (where, name) in names.Where(n => n.Name is { Length: > 0 } && !KeyVaultName().IsMatch(n.Name)))
            {
                // Never echo it: a misplaced value (a URL, a connection string) would land in a log.
                problems.Add($"{where} is not a valid Key Vault secret name (1-127 letters, digits and dashes)");
            }
        }
        else if (!options.Secrets.Kind.Equals("Local", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"Secrets:Kind '{options.Secrets.Kind}' is not known; use Local or KeyVault");
        }

        if (string.IsNullOrWhiteSpace(options.MasterKeySecret))
        {
            problems.Add("MasterKeySecret is empty");
        }

        if (options.Dump.Compression == CompressionMode.Zstd ? options.Dump.CompressionLevel is < 1 or > 19 : options.Dump.CompressionLevel is < 1 or > 9)
        {
            problems.Add(options.Dump.Compression == CompressionMode.Zstd ? "Dump:CompressionLevel must be between 1 and 19 for zstd" : "Dump:CompressionLevel must be between 1 and 9 for gzip (Parallel)");
        }

        if (options.Dump.ChunkSizeKiB is < 4 or > 16384)
        {
            problems.Add("Dump:ChunkSizeKiB must be between 4 and 16384");
        }

        if (options.Dump.LockWaitTimeoutSeconds is < 1 or > 86400)
        {
            problems.Add("Dump:LockWaitTimeoutSeconds must be between 1 and 86400");
        }

        if (options.Scratch.TtlHours is <= 0 or > 24 * 365)
        {
            problems.Add("Scratch:TtlHours must be more than 0 and at most a year");
        }

        if (options.Scratch.KeepPreviousHours is < 0 or > 24 * 365)
        {
            problems.Add("Scratch:KeepPreviousHours must be between 0 and a year");
        }

        if (options.Scratch.ConnectionStringSecret is { } scratchSecret && LooksLikeConnectionString(scratchSecret))
        {
            problems.Add("Scratch:ConnectionStringSecret looks like a connection string; put the string in the secret store and name the secret here");
        }

        if (options.Api.MaxBodyBytes is < 1024 or > 10 * 1024 * 1024 || options.Api.MaxConcurrentOperations is < 1 or > 32)
        {
            problems.Add("Api:MaxBodyBytes must be between 1 KiB and 10 MiB, and Api:MaxConcurrentOperations between 1 and 32");
        }

        foreach (var (key, i) in options.Api.Keys.Select((k, i) => (k, i)))
        {
            if (string.IsNullOrWhiteSpace(key.Name) || string.IsNullOrWhiteSpace(key.KeySecret) || LooksLikeConnectionString(key.KeySecret))
            {
                problems.Add($"Api:Keys:{i} needs a Name and a KeySecret (the NAME of the secret holding the key)");
            }
        }

        if (options.Api.Keys.Select(k => k.Name).Distinct(StringComparer.Ordinal).Count() != options.Api.Keys.Count)
        {
            problems.Add("Api:Keys: every caller needs its own Name (the audit log and the second-approver rule tell callers apart by it)");
        }

        foreach (var (where, schedule) in new[] { ("RunDueSchedule", options.RunDueSchedule), ("MaintenanceSchedule", options.MaintenanceSchedule), ("DrillSchedule", options.DrillSchedule) })
        {
            if (!CronSchedule.TryParse(schedule, out _, out var why))
            {
                problems.Add($"{where}: {why}");
            }
            else if (schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 6)
            {
                problems.Add($"{where} is a Functions timer schedule and needs six fields (second minute hour day month day-of-week), e.g. {SbkOptions.DefaultRunDueSchedule}");
            }
        }

        if (options.Api.ApprovalTimeoutHours is <= 0 or > 24 * 30)
        {
            problems.Add("Api:ApprovalTimeoutHours must be more than 0 and at most 720 (30 days)");
        }

        if (options.MaxParallelBackups is < 1 or > 32)
        {
            problems.Add("MaxParallelBackups must be between 1 and 32");
        }

        if (options.Notifications.TimeoutSeconds is <= 0 or > 300)
        {
            problems.Add("Notifications:TimeoutSeconds must be more than 0 and at most 300");
        }

        for (var i = 0; i < options.Notifications.Targets.Count; i++)
        {
            if (options.Notifications.Targets[i].UrlSecret is not { Length: > 0 } urlSecret)
            {
                problems.Add($"Notifications:Targets:{i}:UrlSecret is missing (the NAME of the secret holding the webhook URL)");
            }
            else if (urlSecret.Contains("://", StringComparison.Ordinal))
            {
                problems.Add($"Notifications:Targets:{i}:UrlSecret looks like a URL; webhook URLs are credentials: put it in the secret store and name the secret here");
            }
        }

        foreach (var (name, database) in options.Databases)
        {
            if (database.Schedule is { } schedule && !CronSchedule.TryParse(schedule, out _, out var why))
            {
                problems.Add($"Databases:{name}:Schedule: {why}");
            }

            if (database.TimeZone is { } zone && !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
            {
                problems.Add($"Databases:{name}:TimeZone '{zone}' is not a known IANA time zone (for example Europe/Berlin or America/New_York)");
            }

            if (database.Objectives.RpoHours is <= 0 || database.Objectives.RtoHours <= 0)
            {
                problems.Add($"Databases:{name}:Objectives: RpoHours and RtoHours must be more than 0");
            }

            if (database.RestoreJobs is < 1 or > 64)
            {
                problems.Add($"Databases:{name}:RestoreJobs must be between 1 and 64");
            }

            if (database.Retention is { } r)
            {
                if (r.Hourly < 0 || r.Daily < 0 || r.Weekly < 0 || r.Monthly < 0 || r.Yearly < 0 || r.KeepDays < 0 || r.MinAgeHours < 0 || r.OrphanSafetyHours < 1)
                {
                    problems.Add($"Databases:{name}:Retention: counts, KeepDays and MinAgeHours cannot be negative, and OrphanSafetyHours must be at least 1");
                }

                if (r.Hourly + r.Daily + r.Weekly + r.Monthly + r.Yearly == 0 && r.KeepDays == 0 && r.Labels.Count == 0)
                {
                    problems.Add($"Databases:{name}:Retention keeps no backup by count, age or label: give at least one of KeepDays, Hourly, Daily, Weekly, Monthly, Yearly (or remove the section to keep everything)");
                }

                foreach (var (label, rule) in r.Labels)
                {
                    if (rule.KeepDays is null == !rule.KeepUntilReleased || rule.KeepDays is <= 0)
                    {
                        problems.Add($"Databases:{name}:Retention:Labels:{label}: give either KeepDays (more than 0) or KeepUntilReleased: true");
                    }
                }
            }

            for (var i = 0; i < database.Assertions.Count; i++)
            {
                var a = database.Assertions[i];
                var where = $"Databases:{name}:Assertions:{i}";
                if (string.IsNullOrWhiteSpace(a.Name) || string.IsNullOrWhiteSpace(a.Sql))
                {
                    problems.Add($"{where} needs both a Name and an Sql query");
                }

                if (a.Expect == AssertionExpectation.Equals && a.Value is null)
                {
                    problems.Add($"{where} ({a.Name}) expects Equals but has no Value");
                }

                if (a.Expect is AssertionExpectation.AtLeast or AssertionExpectation.AtMost
                    && !decimal.TryParse(a.Value, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out _))
                {
                    problems.Add($"{where} ({a.Name}) expects {a.Expect} but its Value is not a number");
                }
            }


            if (!DatabaseNamePattern().IsMatch(name))
            {
                problems.Add($"Databases:{name}: a catalog name is 1-63 letters, digits, '_' or '-', starting with a letter or digit");
            }

            if (string.IsNullOrWhiteSpace(database.ConnectionStringSecret))
            {
                problems.Add($"Databases:{name}:ConnectionStringSecret is missing (the NAME of the secret holding the connection string, never the string itself)");
            }
            else if (LooksLikeConnectionString(database.ConnectionStringSecret))
            {
                // Say where, never echo it.
                problems.Add($"Databases:{name}:ConnectionStringSecret looks like a connection string; put the string in the secret store and name the secret here");
            }
        }

        if (problems.Count > 0)
        {
            throw new SbkException(SbkErrorKind.Configuration, $"The configuration in {source} has {problems.Count} problem(s):\n  - " + string.Join("\n  - ", problems));
        }
    }

    private static bool LooksLikeConnectionString(string value) =>
        value.Contains('=', StringComparison.Ordinal) || value.Contains("://", StringComparison.Ordinal) || value.Contains(';', StringComparison.Ordinal);
}
