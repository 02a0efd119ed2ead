using System.Security.Cryptography;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Crypto;

/// <summary>
/// The key-encryption key: 32 random bytes kept as a secret (base64). Its name and version are
/// recorded in every backup, so an old backup asks for the exact version that wrapped it.
/// </summary>
public sealed class MasterKey
{
    /// <summary>Length of the key in bytes (AES-256).</summary>
    public const int KeyLength = 32;
    private readonly byte[] key;

    private MasterKey(string name, string version, byte[] key)
    {
        Name = name;
        Version = version;
        this.key = key;
    }

    /// <summary>The secret's name.</summary>
    public string Name { get; }

    /// <summary>The secret's version.</summary>
    public string Version { get; }

    internal ReadOnlySpan<byte> Key => key;

    /// <summary>A new random key, encoded as the secret value to store.</summary>
    public static string GenerateSecretValue() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyLength));

    /// <summary>Reads a master key from its secret.</summary>
    /// <exception cref="SbkException">The secret is not a base64-encoded 32-byte key.</exception>
    public static MasterKey FromSecret(SecretValue secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var bytes = new byte[KeyLength];
        if (!Convert.TryFromBase64String(secret.Reveal().Trim(), bytes, out var written) || written != KeyLength)
        {
            throw new SbkException(SbkErrorKind.Configuration,
                $"The secret '{secret.Name}' (version '{secret.Version}') is not a master key: it must be 32 random bytes in base64. Create one with 'sbk keys init'.");
        }

        return new MasterKey(secret.Name, secret.Version, bytes);
    }

    /// <inheritdoc />
    public override string ToString() => $"master key '{Name}' version '{Version}' [redacted]";
}
