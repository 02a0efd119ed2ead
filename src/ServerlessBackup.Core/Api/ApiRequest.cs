namespace ServerlessBackup.Api;

/// <summary>An HTTP request as the API sees it, whatever hosts it (Kestrel, an Azure Functions HTTP trigger).</summary>
/// <param name="Method">GET, POST, …</param>
/// <param name="Path">The path, e.g. <c>/api/backups</c> (not decoded beyond what the host did).</param>
/// <param name="Query">Query parameters (first value of each).</param>
/// <param name="Headers">Headers, case-insensitive.</param>
/// <param name="Body">The body; at most Api:MaxBodyBytes + 1 bytes are read by the host.</param>
/// <param name="RemoteAddress">Where it came from, for the audit log.</param>
public sealed record ApiRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body, string RemoteAddress);

/// <summary>The API's answer.</summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Body">JSON body (UTF-8).</param>
/// <param name="ContentType">application/json or application/problem+json.</param>
/// <param name="Headers">Extra headers (Location, Retry-After, Allow).</param>
public sealed record ApiResponse(int Status, byte[] Body, string ContentType, IReadOnlyDictionary<string, string> Headers);

/// <summary>Who is calling: an API key's name, or Slack (with the Slack user).</summary>
/// <param name="Name">The caller's name (the API key's name, or "slack:&lt;user&gt;").</param>
/// <param name="Kind">api-key or slack.</param>
public sealed record ApiCaller(string Name, string Kind);
