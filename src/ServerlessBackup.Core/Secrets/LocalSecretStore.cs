using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Secrets;

/// <summary>
/// A development secret store: a JSON file (mode 0600) holding every version of each secret, and
/// environment variables <c>SBK_SECRET_&lt;NAME&gt;</c> (name upper-cased, other characters as
/// <c>_</c>) that override the file's current version. Use Key Vault in production.
/// </summary>
public sealed class LocalSecretStore : ISecretStore
{
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<JsonObject> Indented = new JsonSerializerOptions { WriteIndented = true, TypeInfoResolver = SbkJsonContext.Default }.Info<JsonObject>();

    /// <summary>Prefix of the environment variables that supply secrets.</summary>
    public const string EnvironmentPrefix = "SBK_SECRET_";
    private const string EnvironmentVersion = "env";

    /// <summary>The version a secret given in the environment has.</summary>
    public const string EnvironmentVersionName = EnvironmentVersion;
    private readonly string path;
    private readonly Func<string, string?> getEnvironment;
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>Creates the store over <paramref name="path"/> (which need not exist yet).</summary>
    public LocalSecretStore(string path, Func<string, string?>? getEnvironment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        this.path = Path.GetFullPath(path);
        this.getEnvironment = getEnvironment ?? Environment.GetEnvironmentVariable;
    }

    /// <inheritdoc />
    public string Description => $"the local secret file {path} (or {EnvironmentPrefix}* environment variables)";

    /// <summary>The environment variable that overrides secret <paramref name="name"/>.</summary>
    public static string EnvironmentVariableFor(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_').ToArray();
        return EnvironmentPrefix + new string(chars);
    }

    /// <inheritdoc />
    public async Task<SecretValue> GetSecretAsync(string name, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (version is null or EnvironmentVersion)
        {
            var fromEnvironment = getEnvironment(EnvironmentVariableFor(name));
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                return new SecretValue(name, EnvironmentVersion, fromEnvironment);
            }
        }

        var root = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (root[name] is not JsonObject secret || secret["versions"] is not JsonObject versions)
        {
            throw new SbkException(SbkErrorKind.NotFound,
                $"The secret '{name}' is not in {Description}. Set it with the environment variable {EnvironmentVariableFor(name)}, or add it to the file (for the master key: sbk keys init).");
        }

        var wanted = version ?? (string?)secret["current"];
        if (wanted is null || versions[wanted] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            throw new SbkException(SbkErrorKind.NotFound,
                $"The secret '{name}' has no version '{wanted ?? "(current)"}' in {Description}. Versions stored: {string.Join(", ", versions.Select(v => v.Key))}.");
        }

        return new SecretValue(name, wanted, value.GetValue<string>());
    }

    /// <inheritdoc />
    public async Task<SecretValue> SetSecretAsync(string name, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(value);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Other processes (a second sbk, a key rotation) update the same file: one read-modify-write at a time.
            await using var fileLock = await LockFileAsync(cancellationToken).ConfigureAwait(false);
            var root = await ReadAsync(cancellationToken).ConfigureAwait(false);
            if (root[name] is not JsonObject secret)
            {
                secret = new JsonObject { ["versions"] = new JsonObject() };
                root[name] = secret;
            }

            // Versions sort by time, like Key Vault's are unique; a random tail keeps two in one second apart.
            var version = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "-" +
                          Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            ((JsonObject)secret["versions"]!)[version] = value;
            secret["current"] = version;
            await WriteAsync(root, cancellationToken).ConfigureAwait(false);
            return new SecretValue(name, version, value);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>An exclusive lock on <c>&lt;file&gt;.lock</c> (an OS file lock, released if the process dies), waited for up to 30 s.</summary>
    private async Task<FileStream> LockFileAsync(CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var lockPath = path + ".lock";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                return new FileStream(lockPath, options);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(Random.Shared.Next(10, 50), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new SbkException(SbkErrorKind.Failed, $"Another process has held the lock of the local secret file ({lockPath}) for 30 s; nothing was changed. If no other sbk runs, remove that file and try again.", isTransient: true, ex);
            }
        }
    }

    private async Task<JsonObject> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return new JsonObject();
        }

        try
        {
            await using var stream = File.OpenRead(path);
            return await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false) as JsonObject
                   ?? throw new JsonException("the top level is not an object");
        }
        catch (JsonException ex)
        {
            // The parser's message may quote content; say only where the problem is.
            throw new SbkException(SbkErrorKind.Configuration,
                $"The local secret file {path} is not valid JSON (line {ex.LineNumber + 1}). Fix or remove it.");
        }
    }

    private async Task WriteAsync(JsonObject root, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var stream = new FileStream(temporary, options))
            {
                await JsonSerializer.SerializeAsync(stream, root, Indented, CancellationToken.None).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            // A rename replaces the file whole: a reader sees the old secrets or the new ones, never half of either.
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
