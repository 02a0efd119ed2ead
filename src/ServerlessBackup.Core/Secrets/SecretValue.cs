using ServerlessBackup.Diagnostics;

namespace ServerlessBackup.Secrets;

/// <summary>
/// A secret read from a secret store. <see cref="ToString"/> never shows the value; call
/// <see cref="Reveal"/> only at the point where the value is handed to the thing that needs it.
/// </summary>
public sealed class SecretValue
{
    private readonly string value;

    /// <summary>Wraps a secret and registers it with <see cref="SecretRedactor"/>.</summary>
    public SecretValue(string name, string version, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(value);
        Name = name;
        Version = version;
        this.value = value;
        SecretRedactor.Register(value);
    }

    /// <summary>The secret's name in its store.</summary>
    public string Name { get; }

    /// <summary>The version read (stores without versions use an empty string).</summary>
    public string Version { get; }

    /// <summary>The secret itself. Never log, format or return it.</summary>
    public string Reveal() => value;

    /// <inheritdoc />
    public override string ToString() => $"secret '{Name}' [redacted]";
}
