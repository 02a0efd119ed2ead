using System.Globalization;
using Npgsql;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Dump;

/// <summary>
/// A parsed PostgreSQL connection string: the URI form the providers hand out
/// (<c>postgres://user:pass@host:5432/db?sslmode=require</c>) or Npgsql's key=value form.
/// Gives Npgsql a connection string and libpq tools (pg_dump) environment variables, so the
/// password never appears on a command line. <see cref="ToString"/> redacts the password.
/// </summary>
public sealed class PgConnectionInfo
{
    private readonly NpgsqlConnectionStringBuilder builder;

    private PgConnectionInfo(NpgsqlConnectionStringBuilder builder) => this.builder = builder;

    /// <summary>Host (or comma-separated hosts).</summary>
    public string Host => builder.Host ?? "localhost";

    /// <summary>Port.</summary>
    public int Port => builder.Port;

    /// <summary>Database name on the server.</summary>
    public string Database => builder.Database ?? Username;

    /// <summary>User name.</summary>
    public string Username => builder.Username ?? Environment.UserName;

    /// <summary>"host:port/database as user", for messages.</summary>
    public string Describe() => $"{Host}:{Port}/{Database} as {Username}";

    /// <summary>Parses the connection string held by <paramref name="secret"/>.</summary>
    /// <exception cref="SbkException">Configuration, naming the secret, never quoting it.</exception>
    public static PgConnectionInfo FromSecret(SecretValue secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var text = secret.Reveal().Trim();
        try
        {
            var builder = text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
                ? FromUri(text)
                : new NpgsqlConnectionStringBuilder(text);
            if (string.IsNullOrEmpty(builder.Host))
            {
                throw new FormatException("no host");
            }

            return new PgConnectionInfo(builder);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or UriFormatException or KeyNotFoundException)
        {
            throw new SbkException(SbkErrorKind.Configuration,
                $"The secret '{secret.Name}' does not hold a usable PostgreSQL connection string ({(ex is FormatException ? ex.Message : "unrecognised format")}). Use postgres://user:password@host:5432/dbname?sslmode=require or Host=...;Username=...;Password=...;Database=...");
        }
    }

    private static NpgsqlConnectionStringBuilder FromUri(string text)
    {
        var uri = new Uri(text);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Uri.UnescapeDataString(uri.Host.Trim('[', ']')),
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
        };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var name = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            switch (name.ToLowerInvariant())
            {
                case "sslmode":
                    builder.SslMode = value.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new FormatException($"unknown sslmode '{value}'"),
                    };
                    break;
                case "sslrootcert":
                    builder.RootCertificate = value;
                    break;
                case "connect_timeout":
                    builder.Timeout = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "application_name":
                    builder.ApplicationName = value;
                    break;
                case "options":
                    builder.Options = value;
                    break;
                case "user":
                    builder.Username = value;
                    break;
                case "password":
                    builder.Password = value;
                    break;
                case "dbname":
                    builder.Database = value;
                    break;
                default:
                    // Parameters libpq knows and we do not need (e.g. channel_binding) are ignored.
                    break;
            }
        }

        return builder;
    }

    /// <summary>A connection string for Npgsql, with a database override when given.</summary>
    internal string ToNpgsql(string? database = null, int? timeoutSeconds = null)
    {
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            ApplicationName = builder.ApplicationName ?? "sbk",
            Pooling = false,
        };
        if (database is not null)
        {
            copy.Database = database;
        }

        if (timeoutSeconds is { } t)
        {
            copy.Timeout = t;
        }

        return copy.ConnectionString;
    }

    /// <summary>Environment variables that point libpq tools at this database (password included; never on the command line).</summary>
    internal IReadOnlyDictionary<string, string> ToLibpqEnvironment(string? database = null)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PGHOST"] = Host,
            ["PGPORT"] = Port.ToString(CultureInfo.InvariantCulture),
            ["PGDATABASE"] = database ?? Database,
            ["PGUSER"] = Username,
            ["PGAPPNAME"] = builder.ApplicationName ?? "sbk",
            ["PGCONNECT_TIMEOUT"] = Math.Max(2, builder.Timeout).ToString(CultureInfo.InvariantCulture),
            ["PGSSLMODE"] = builder.SslMode switch
            {
                SslMode.Disable => "disable",
                SslMode.Allow => "allow",
                SslMode.Require => "require",
                SslMode.VerifyCA => "verify-ca",
                SslMode.VerifyFull => "verify-full",
                _ => "prefer",
            },
        };
        if (!string.IsNullOrEmpty(builder.Password))
        {
            env["PGPASSWORD"] = builder.Password;
        }

        if (!string.IsNullOrEmpty(builder.RootCertificate))
        {
            env["PGSSLROOTCERT"] = builder.RootCertificate;
        }

        if (!string.IsNullOrEmpty(builder.Options))
        {
            env["PGOPTIONS"] = builder.Options;
        }

        return env;
    }

    /// <inheritdoc />
    public override string ToString() => $"postgres://{Username}:[redacted]@{Host}:{Port}/{Database}";
}
