using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Crypto;

/// <summary>
/// Authenticates the small objects in the store that steer decisions (operation records and
/// approvals, holds and releases, verification and listing metadata, attempt records, slots,
/// idempotency keys, Slack replay marks): HMAC-SHA256 under a key derived from the master key
/// (HKDF, info <c>sbk state v1</c>), over the object's store key and its bytes, so an object
/// cannot be forged, edited or moved to another key by anyone who cannot read the master key.
/// A signature names the master key version it was made with: <c>1;&lt;name&gt;;&lt;version&gt;;&lt;base64 mac&gt;</c>.
/// </summary>
public sealed class StateSigner
{
    private static readonly byte[] Info = Encoding.UTF8.GetBytes("sbk state v1");
    private readonly MasterKeyProvider keys;
    private readonly ConcurrentDictionary<(string, string), byte[]> macKeys = new();

    public StateSigner(MasterKeyProvider keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        this.keys = keys;
    }

    /// <summary>Signs <paramref name="body"/> as the content of <paramref name="objectKey"/> with the current master key.</summary>
    /// <exception cref="SbkException">Configuration: no master key.</exception>
    public async Task<string> SignAsync(string objectKey, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var master = await keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var mac = Mac(MacKey(master), objectKey, body.Span);
        return $"1;{master.Name};{master.Version};{Convert.ToBase64String(mac)}";
    }

    /// <summary>
    /// Whether <paramref name="signature"/> is a valid signature of <paramref name="body"/> as the
    /// content of <paramref name="objectKey"/>. False when it is missing, malformed, wrong, or made
    /// with a master key version that is not available (then it cannot be trusted either).
    /// </summary>
    public async Task<bool> VerifyAsync(string objectKey, ReadOnlyMemory<byte> body, string? signature, CancellationToken cancellationToken)
    {
        var parts = signature?.Split(';');
        if (parts is not ["1", { Length: > 0 } name, { Length: > 0 } version, { Length: > 0 } mac])
        {
            return false;
        }

        var expected = new byte[32];
        if (!Convert.TryFromBase64String(mac, expected, out var length) || length != 32)
        {
            return false;
        }

        MasterKey master;
        try
        {
            master = await keys.GetAsync(name, version, cancellationToken).ConfigureAwait(false);
        }
        catch (SbkException ex) when (ex.Kind is SbkErrorKind.NotFound or SbkErrorKind.Configuration)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Mac(MacKey(master), objectKey, body.Span), expected);
    }

    /// <summary>The bytes a set of fields (object metadata) is signed as: sorted <c>name=value</c> lines.</summary>
    public static byte[] Fields(IEnumerable<KeyValuePair<string, string>> fields) =>
        Encoding.UTF8.GetBytes(string.Concat(fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}\n")));

    private byte[] MacKey(MasterKey master) =>
        macKeys.GetOrAdd((master.Name, master.Version), _ => HKDF.DeriveKey(HashAlgorithmName.SHA256, master.Key.ToArray(), 32, info: Info));

    private static byte[] Mac(byte[] key, string objectKey, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        var name = Encoding.UTF8.GetBytes(objectKey);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, name.Length);
        hmac.AppendData(length);
        hmac.AppendData(name);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }
}
