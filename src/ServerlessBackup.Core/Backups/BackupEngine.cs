using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Catalog;
using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Backups;

/// <summary>
/// The engine's backup side: take a backup of a catalogued database, list backups, show one
/// (authenticated), and decrypt one into a pg_restore-ready archive. Holds no state between calls
/// beyond the store, so any number of hosts can run it.
/// </summary>
public sealed partial class BackupEngine
{
    private readonly SbkOptions options;
    private readonly IObjectStore store;
    private readonly ISecretStore secrets;
    private readonly MasterKeyProvider keys;
    private readonly StateSigner signer;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Notify.Notifier? notifier;

    /// <summary>
    /// <paramref name="notifier"/> tells the team when a backup fails (none: nobody is told);
    /// <paramref name="keys"/> is the master key the host shares with signing and sealing (none: one over <paramref name="secrets"/>).
    /// </summary>
    public BackupEngine(SbkOptions options, IObjectStore store, ISecretStore secrets, TimeProvider? time = null, ILogger<BackupEngine>? logger = null, Notify.Notifier? notifier = null, MasterKeyProvider? keys = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(secrets);
        this.options = options;
        this.store = store;
        this.secrets = secrets;
        this.keys = keys ?? new MasterKeyProvider(secrets, options.MasterKeySecret);
        signer = new StateSigner(this.keys);
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        this.notifier = notifier;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex LabelPattern();

    /// <summary>Whether a label is acceptable: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.</summary>
    public static bool IsValidLabel(string label) => LabelPattern().IsMatch(label);

    internal DatabaseOptions ResolveDatabase(string database)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (options.Databases.TryGetValue(database, out var entry))
        {
            return entry;
        }

        var known = options.Databases.Count == 0 ? "none are configured" : "catalogued: " + string.Join(", ", options.Databases.Keys.Order(StringComparer.Ordinal));
        throw new SbkException(SbkErrorKind.NotFound, $"There is no database named '{Sanitize(database)}' in the catalog ({known}). Add it under Databases in the configuration.");
    }

    /// <summary>Keeps user-supplied names printable and short in messages.</summary>
    internal static string Sanitize(string value)
    {
        var clean = new string(value.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return value.Length > 80 ? clean + "…" : clean;
    }
}
