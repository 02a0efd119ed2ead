using System.Globalization;
using System.Security.Cryptography;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Api;

/// <summary>Every state-changing call, kept in the store under <c>_audit/yyyy/MM/dd/</c>: who, what, when, from where, outcome.</summary>
internal sealed class AuditLog(IObjectStore store, TimeProvider time)
{
    public const string Prefix = "_audit/";

    public async Task WriteAsync(string caller, string method, string path, string from, int status, string? operationId, string? detail)
    {
        var now = time.GetUtcNow();
        var key = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{now:yyyy/MM/dd}/{now:HHmmssfff}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.json");
        await store.WriteJsonAsync(key, new { at = now, caller, method, path, from, status, operationId, detail }, CancellationToken.None).ConfigureAwait(false);
    }
}
