using Microsoft.AspNetCore.Http;

namespace ServerlessBackup.Api;

/// <summary>
/// The few lines between ASP.NET Core's HTTP types and the transport-neutral API, shared by both
/// hosts (Kestrel in <c>sbk serve</c>, the Functions app's HTTP triggers), so that both answer
/// every request byte for byte the same.
/// </summary>
public static class HttpApiAdapter
{
    /// <summary>
    /// The request as the API sees it. The body is read up to one byte past <paramref name="maxBodyBytes"/>
    /// (enough for the API to answer 413), never further.
    /// </summary>
    public static async Task<ApiRequest> ToApiRequestAsync(HttpRequest request, int maxBodyBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while (buffer.Length <= maxBodyBytes && (n = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, (int)Math.Min(n, maxBodyBytes + 1 - buffer.Length));
        }

        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        // A parameter given twice keeps both values ("a,b"), so it is refused as the value it is rather than read as one of them.
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        var path = request.PathBase.Add(request.Path).Value ?? "/";
        return new ApiRequest(request.Method, path, query, headers, buffer.ToArray(), request.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }

    /// <summary>Writes <paramref name="answer"/> (status, headers, body) to <paramref name="response"/>.</summary>
    public static async Task WriteAsync(HttpResponse response, ApiResponse answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(answer);
        response.StatusCode = answer.Status;
        response.ContentType = answer.ContentType;
        response.ContentLength = answer.Body.Length;
        foreach (var (name, value) in answer.Headers)
        {
            response.Headers[name] = value;
        }

        response.Headers["Cache-Control"] = "no-store";
        await response.Body.WriteAsync(answer.Body, cancellationToken).ConfigureAwait(false);
    }
}
